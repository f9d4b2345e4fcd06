"""Tests of financing demands: life cycle, pool, reveal rule, push lists, subsidies, interchange."""
