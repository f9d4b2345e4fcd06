"""Matching events (银企对接会, 融资洽谈会, 联合现场办公, 项目路演): registration, requests, timetables, outcomes."""
