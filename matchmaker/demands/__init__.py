"""Financing demands (融资需求): the life cycle, the pool institutions browse, and push lists to banks."""
