import httpx2


def test_requests_are_counted_by_route_template(server, client):
    thread_id = "cthr_doesnotexist"
    try:
        client.beta.chatkit.threads.retrieve(thread_id)
    except Exception:
        pass
    client.beta.chatkit.threads.list()
    body = httpx2.get(f"{server.base_url}/metrics").text
    assert (
        'chatkitd_http_requests_total{method="GET",route="/v1/chatkit/threads/{thread_id}",status="404"}'
        in body
    )
    assert 'chatkitd_http_requests_total{method="GET",route="/v1/chatkit/threads",status="200"}' in body
    # Raw ids never become labels.
    assert thread_id not in body
    assert "chatkitd_http_request_duration_seconds_bucket" in body
