"""A request-recording node for the Elasticsearch client: records every request, answers from a script."""
from __future__ import annotations

import json
from collections import deque
from typing import Any

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch

from search.elastic import ElasticBackend


def decode(body: bytes | None) -> Any:
    """A request body as JSON: one object, or a list of objects for NDJSON (bulk)."""
    if not body:
        return None
    text = body.decode()
    if text.endswith("\n"):
        return [json.loads(line) for line in text.splitlines() if line]
    return json.loads(text)


class RecordingNode(BaseNode):
    """Stands in for an HTTP connection: `script` holds (status, body) answers in request order."""

    script: deque = deque()
    requests: list[tuple[str, str, Any]] = []

    def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
        RecordingNode.requests.append((method, target, decode(body)))
        if RecordingNode.script:
            status, answer = RecordingNode.script.popleft()
        elif target.split("?")[0].endswith("/_search"):
            status, answer = 200, {"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}
        elif target.split("?")[0].endswith("/_count"):
            status, answer = 200, {"count": 0}
        else:
            status, answer = 200, {"acknowledged": True}
        meta = ApiResponseMeta(
            status=status, http_version="1.1", duration=0.0, node=self.config,
            headers=HttpHeaders({"x-elastic-product": "Elasticsearch",
                                 "content-type": "application/vnd.elasticsearch+json;compatible-with=9"}))
        return NodeApiResponse(meta, json.dumps(answer).encode())


def recording_backend(**kwargs) -> ElasticBackend:
    """An ElasticBackend whose client talks to a RecordingNode (cleared), with a fixed clock."""
    RecordingNode.script = deque()
    RecordingNode.requests = []
    client = Elasticsearch("http://es.test:9200", node_class=RecordingNode, max_retries=0)
    return ElasticBackend(client, prefix="mm", clock=lambda: 1700000000000000000, **kwargs)


def answer(*responses: tuple[int, Any]) -> None:
    """Queue the answers of the next requests."""
    RecordingNode.script.extend(responses)
