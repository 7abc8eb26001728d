"""Reading ``/metrics`` as a Prometheus server does: each sample by name and labels."""

from __future__ import annotations

import httpx2
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base_url: str, headers: dict[str, str] | None = None) -> Samples:
    response = httpx2.get(f"{base_url}/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
