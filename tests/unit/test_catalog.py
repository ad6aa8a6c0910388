"""The model catalog: routes, each provider's profiles, a route's overrides, and a create checked
against its model; the routes document's schema as the store holds it; `serve --routes` files."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest

from local.routes_store import check
from local.serve.routes_file import RoutesFileError, read_routes
from videos_core.adapters.routes import RoutesDocumentError
from videos_core.callbacks import callback_url, token_for, video_id_of
from videos_core.catalog import Catalog, Defaults, build_catalog
from videos_core.errors import InvalidRequest, InvalidVideoDuration, InvalidVideoPrompt, InvalidVideoSize
from videos_core.ids import new_video_id
from videos_core.logic.models import list_models
from videos_core.routes_schema import schema

DEFAULTS = Defaults(
    "https://videos.example.com/v1", "/videos-api/upstream-api-key", "/videos-api/upstream-keys/"
)
ROUTES: dict[str, dict[str, object]] = {
    "veo-3.1": {
        "provider": "gemini",
        "upstream_model": "veo-3.1-generate-preview",
        "api_key_parameter": "/videos-api/upstream-keys/gemini",
    },
    "kling": {"provider": "fal", "upstream_model": "fal-ai/kling-video/v2.1/standard/text-to-video"},
    "house": {
        "base_url": "http://127.0.0.1:8000/v1",
        "profile": "vllm-omni",
        "seconds": ["2", "4"],
        "sizes": ["832x480"],
        "price_per_second": "0.02",
    },
}


def catalog(routes: object = ROUTES) -> Catalog:
    return build_catalog(routes, DEFAULTS)


def test_each_route_finds_its_providers_profile_and_default_address() -> None:
    catalog_ = catalog().entries

    veo, kling, house = catalog_["veo-3.1"], catalog_["kling"], catalog_["house"]
    assert (veo.provider, veo.family, veo.base_url) == (
        "gemini",
        "veo-3.1-generate",
        "https://generativelanguage.googleapis.com",
    )
    assert veo.api_key_parameter == "/videos-api/upstream-keys/gemini"
    assert (kling.family, kling.base_url) == ("fal-ai/kling-video", "https://queue.fal.run")
    assert kling.api_key_parameter == "/videos-api/upstream-api-key"
    assert kling.capabilities.seconds == ("5", "10")
    # A route's overrides replace its profile's values, the rest stay.
    assert (house.capabilities.seconds, house.capabilities.sizes) == (("2", "4"), ("832x480",))
    assert house.capabilities.price_per_second == Decimal("0.02")
    assert house.capabilities.max_prompt_chars == 32_000


def test_prices_come_from_the_catalog_with_a_routes_prices_per_size_on_top() -> None:
    routes = ROUTES | {"veo-3.1": {**ROUTES["veo-3.1"], "prices_by_size": {"1920x1080": "0.5"}}}
    prices = {model: entry.prices for model, entry in catalog(routes).entries.items()}

    assert prices["veo-3.1"] == {"*": Decimal("0.40"), "1920x1080": Decimal("0.5")}
    assert prices["kling"] == {"*": Decimal("0.07")}


def test_a_providers_own_prices_by_size_apply_unless_the_route_prices_every_size() -> None:
    ray = {"provider": "bedrock", "upstream_model": "luma.ray-v2:0"}
    entries = catalog({"ray": ray, "flat": ray | {"price_per_second": "1"}}).entries
    prices = {model: entry.prices for model, entry in entries.items()}

    assert prices["ray"]["*"] == Decimal("1.50")
    assert prices["ray"]["960x540"] == Decimal("0.75")
    assert prices["flat"] == {"*": Decimal("1")}


def test_a_create_is_checked_against_its_model() -> None:
    veo = catalog().entries["veo-3.1"].capabilities

    veo.check("veo-3.1", "6", "1080x1920", "a heron", reference=True)
    with pytest.raises(InvalidVideoDuration, match="'8', '4' or '6' seconds, not '12'") as duration:
        veo.check("veo-3.1", "12", "1280x720", "a heron", reference=False)
    assert duration.value.param == "seconds"
    # The hint names the model's own lengths, in the seed's words (its table's are Sora's).
    assert duration.value.hint == 'Use "8", "4", or "6"'
    with pytest.raises(InvalidVideoSize, match="not '1024x1792'"):
        veo.check("veo-3.1", "8", "1024x1792", "a heron", reference=False)
    with pytest.raises(InvalidVideoPrompt, match="at most 4000"):
        veo.check("veo-3.1", "8", "1280x720", "x" * 4001, reference=False)
    with pytest.raises(InvalidRequest, match="no reference image"):
        catalog().entries["kling"].capabilities.check("kling", "5", "1920x1080", "a", reference=True)
    with pytest.raises(InvalidRequest, match="does not support remix"):
        veo.allows("veo-3.1", "remix")


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        ({"veo": {"provider": "gemini", "base_url": "http://veo.example.com"}}, "must be https"),
        ({"veo": {"provider": "gemini", "upstream_model": "veo-9"}}, "no gemini profile for 'veo-9'"),
        (
            {"veo-2.0-generate-001": {"provider": "gemini", "api_key_parameter": "/elsewhere/k"}},
            "UpstreamKeysPath",
        ),
        ({"veo-2.0-generate-001": {"provider": "gemini", "seconds": []}}, "seconds"),
        ({"veo-2.0-generate-001": {"provider": "gemini", "colour": "red"}}, "colour"),
        ({"veo": {"provider": "no-such-provider"}}, "unknown provider 'no-such-provider'"),
        ({"house": {"provider": "openai", "profile": "vllm-omni"}}, "name its base_url"),
        ({"veo-2.0-generate-001": {"provider": "gemini", "region": "us-east1"}}, "gemini takes no region"),
        ({"veo-3.1-generate-001": {"provider": "vertex", "region": "us/../x"}}, "region"),
    ],
)
def test_a_bad_route_names_the_problem(routes: object, problem: str) -> None:
    no_upstream_base_url = Defaults(None, DEFAULTS.api_key_parameter, DEFAULTS.keys_path)
    with pytest.raises(RoutesDocumentError, match=problem):
        check(json.dumps(routes).encode(), no_upstream_base_url)


def test_a_regional_providers_route_is_in_its_region_or_the_providers_default_one() -> None:
    veo = {"provider": "vertex", "upstream_model": "veo-3.1-generate-001"}
    routes = {
        "default": veo,
        "europe": veo | {"region": "europe-west4"},
        "global": veo | {"region": "global", "base_url": "https://aiplatform.googleapis.com"},
    }

    entries = catalog(routes).entries

    assert (entries["default"].region, entries["default"].base_url) == (
        "us-central1",
        "https://us-central1-aiplatform.googleapis.com",
    )
    assert entries["europe"].base_url == "https://europe-west4-aiplatform.googleapis.com"
    assert (entries["global"].region, entries["global"].base_url) == (
        "global",
        "https://aiplatform.googleapis.com",
    )
    assert catalog().route("veo-3.1").region is None


def test_without_routes_openais_models_go_to_the_upstream_base_url_if_there_is_one() -> None:
    assert catalog({}).models == ("sora-2", "sora-2-pro")
    assert catalog({}).route("sora-2-pro-2025-10-06").base_url == "https://videos.example.com/v1"
    assert build_catalog({}, Defaults(None, "/k", "/k/")).models == ()


def test_the_stores_schema_refuses_a_document_of_the_wrong_shape() -> None:
    validator = jsonschema.Draft4Validator(schema())
    jsonschema.Draft4Validator.check_schema(schema())

    assert validator.is_valid(ROUTES | {"bare": "https://videos.example.com/v1"})
    assert validator.is_valid(
        {f"model-{i}": {"provider": "fal", "upstream_model": "fal-ai/veo3"} for i in range(200)}
    )
    bad: object
    for bad in (
        {"veo": {"provider": 7}},
        {"veo": {"provider": "gemini", "base_url": "http://veo.example.com"}},
        {"veo": {"provider": "gemini", "colour": "red"}},
        {"veo": {"provider": "gemini", "seconds": []}},
        {"veo": {"provider": "gemini", "price_per_second": 0}},
        {"veo": {"provider": "gemini", "prices_by_size": {"big": "1"}}},
        {"": {}},
        [],
    ):
        assert not validator.is_valid(bad), bad
    # Which providers and profiles exist is the registry's: the catalog's rules refuse the others.
    assert validator.is_valid({"veo": {"provider": "no-such-provider"}})
    with pytest.raises(RoutesDocumentError, match="unknown provider"):
        check(b'{"veo": {"provider": "no-such-provider"}}', DEFAULTS)


def test_the_models_list_shows_each_models_choices_and_price() -> None:
    cards = {card.id: card for card in list_models(catalog()).data}

    assert cards["veo-3.1"].provider == "gemini"
    assert (cards["veo-3.1"].default_seconds, cards["veo-3.1"].default_size) == ("8", "1280x720")
    assert cards["house"].price_per_second == "0.02"
    assert cards["kling"].image_reference is False


def test_a_callback_token_is_the_jobs_and_made_with_the_secret() -> None:
    one, other = new_video_id(), new_video_id()
    token = token_for("whsec_one", one)

    assert video_id_of("whsec_one", token) == one
    assert video_id_of("whsec_two", token) is None
    assert video_id_of("whsec_one", other + "." + token.split(".")[1]) is None
    assert video_id_of("whsec_one", "vid_1." + token.split(".")[1]) is None
    assert callback_url("abc.execute-api.us-east-1.amazonaws.com", "fal", "whsec_one", one).startswith(
        f"https://abc.execute-api.us-east-1.amazonaws.com/webhooks/fal/{one}."
    )
    assert callback_url("127.0.0.1:3000", "fal", "whsec_one", one).startswith("http://127.0.0.1:3000/")


def test_a_routes_file_keeps_its_keys_out_of_the_document(tmp_path: Path) -> None:
    file = tmp_path / "routes.json"
    file.write_text(
        json.dumps({"veo": {"provider": "gemini", "upstream_model": "veo-3.0-generate-001", "api_key": "k1"}})
    )

    routes = read_routes(file, DEFAULTS, "http://127.0.0.1:4010")

    document = json.loads(routes.document)
    assert document["veo"]["api_key_parameter"] == "/videos-api/upstream-keys/veo"
    assert document["veo"]["base_url"] == "http://127.0.0.1:4010"
    assert b"k1" not in routes.document
    assert routes.keys == {"/videos-api/upstream-keys/veo": "k1"}


def test_a_routes_file_route_on_the_engine_keeps_the_key_its_dialect_makes(tmp_path: Path) -> None:
    file = tmp_path / "routes.json"
    veo = {"provider": "vertex", "upstream_model": "veo-3.1-generate-001", "api_key": "k1"}
    file.write_text(json.dumps({"veo": veo, "elsewhere": veo | {"base_url": "https://vertex.example.com"}}))

    keys = read_routes(file, DEFAULTS, "http://127.0.0.1:4010").keys

    made = json.loads(keys["/videos-api/upstream-keys/veo"])
    assert made["type"] == "service_account"
    assert made["token_uri"] == "http://127.0.0.1:4010/vertex/token"
    assert keys["/videos-api/upstream-keys/elsewhere"] == "k1"


def test_a_bad_routes_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "routes.json"
    file.write_text(json.dumps({"veo": {"provider": "no-such-provider"}}))
    with pytest.raises(RoutesFileError, match="veo"):
        read_routes(file, DEFAULTS, None)
    file.write_text("[]")
    with pytest.raises(RoutesFileError, match="JSON object"):
        read_routes(file, DEFAULTS, None)


TWO_ROUTES = {
    "veo": [
        {"provider": "gemini", "upstream_model": "veo-3.1-generate-preview", "max_seconds": 600},
        {"name": "backup", "provider": "fal", "upstream_model": "fal-ai/veo3"},
    ]
}


def test_a_model_may_list_routes_in_order_each_named_and_each_called_on_its_own() -> None:
    built = catalog(TWO_ROUTES)

    assert [(e.route, e.provider, e.max_seconds) for e in built.routes("veo")] == [
        ("gemini", "gemini", 600),
        ("backup", "fal", None),
    ]
    assert built.entry("veo") == built.routes("veo")[0]
    assert built.entry("veo", "backup") == built.via("backup").entry("veo") == built.routes("veo")[1]
    assert built.entry("veo", "gone") is None
    jsonschema.validate(TWO_ROUTES, schema())
    [card] = list_models(built).data
    assert [(r.name, r.provider) for r in card.routes] == [("gemini", "gemini"), ("backup", "fal")]


FAL_VEO = {"provider": "fal", "upstream_model": "fal-ai/veo3"}


@pytest.mark.parametrize(
    ("routes", "schema_refuses", "says"),
    [
        ([FAL_VEO, FAL_VEO], False, "names repeat"),  # the code's rule alone
        ([], True, "at least 1 item"),
        ([FAL_VEO | {"name": "Not A Name"}], True, "should match pattern"),
        ([FAL_VEO | {"max_seconds": 5}], True, "greater than or equal to 10"),
    ],
)
def test_a_models_routes_are_refused_by_the_code_and_the_schema(
    routes: list[object], schema_refuses: bool, says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        catalog({"veo": routes})
    if schema_refuses:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"veo": routes}, schema())


def test_a_create_goes_to_the_routes_that_can_make_it_and_is_refused_when_none_can() -> None:
    from videos_core.logic.create import routes_taking

    built = catalog(
        {
            "m": [
                {"upstream_model": "sora-2"},
                {"name": "veo", "provider": "gemini", "upstream_model": "veo-3.1-generate"},
            ]
        }
    )

    assert [e.route for e in routes_taking("m", built, "4", "1280x720", "p", False)] == ["openai", "veo"]
    assert [e.route for e in routes_taking("m", built, "6", "1280x720", "p", False)] == ["veo"]
    with pytest.raises(InvalidVideoDuration):
        routes_taking("m", built, "5", "1280x720", "p", False)
