"""Property-based requests generated from the OpenAPI spec (schemathesis strategies driven by
hypothesis): no request, however odd, makes the API answer 500, and every JSON error carries
"error". Bounded to a few examples per operation to stay fast.

schemathesis's own pytest plugin does not run under pytest 9, so the operations are walked
here and each one's strategy is given to hypothesis directly.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from api.app import create_app
from tests import test_api_data as data
from tests.conftest import make_settings
from tests.test_api_data import Seeded

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis")

# fixtures
shared = data.shared
EXAMPLES = 5


def test_no_request_makes_a_server_error(shared: Seeded) -> None:
    from schemathesis.checks import not_a_server_error

    app = create_app(make_settings(shared.url), rate=1e6, burst=10**6)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {shared.admin_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:  # noqa: ANN001
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error])
            kind = (response.headers.get("content-type") or [""])[0]
            if response.status_code >= 400 and kind.startswith("application/json"):
                assert "error" in response.json(), response.text[:300]

        check()
