"""Notices and policy pages (信息对接交流): bureau notices for chosen audiences, with files."""
