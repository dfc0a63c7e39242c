"""web/src/provenance.js words a layer's provenance from /catalog in ru/kk/en ("OSM, март
2012 г.: очень неполные — 8 201 из примерно 50 544 (16 %)"). It imports only
locale-format.js, so Node runs it as the page does."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import layers
from twin.core.settings import PROJECT_ROOT

MODULE = (PROJECT_ROOT / "web" / "src" / "provenance.js").as_uri()


def _run(call: str, payload: Any) -> Any:
    node = shutil.which("node")
    assert node, "node is needed to build the web app and to run this test"
    script = (
        f"import * as f from '{MODULE}';\n"
        "let s = ''; for await (const c of process.stdin) s += c; const p = JSON.parse(s);\n"
        f"console.log(JSON.stringify({call}));"
    )
    run = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(run.stdout)


def _entry(layer_id: str, count: int, generated: int = 0) -> dict[str, Any]:
    summary = layers.get(layer_id).summary()
    summary["count"] = count
    summary["provenance"]["generated_count"] = generated
    return summary


def test_sparse_layer_reads_its_age_and_share_of_the_estimate() -> None:
    entry = _entry("buildings", 8201)
    out = _run("['ru','kk','en'].map((l) => f.provenanceLine(p, l))", entry)
    assert out[0] == (
        "OSM, март 2012\u202fг.: очень неполные — 8\u00a0201 из примерно 50\u00a0544 (16\u00a0%)"
    )
    assert out[1] == (
        "OSM, 2012\u202fж. наурыз: өте толық емес — "
        "шамамен 50\u00a0544 ішінен 8\u00a0201 (16\u00a0%)"
    )
    assert out[2] == "OSM, March 2012: sparse — 8,201 of an estimated 50,544 (16%)"


def test_partly_generated_layer_says_how_many_are_real() -> None:
    entry = _entry("schools", 1155, 1080)
    out = _run("['ru','en'].map((l) => f.provenanceLine(p, l))", entry)
    assert "настоящих 75 из 1\u00a0155, остальные сгенерированы" in out[0]
    assert out[1].endswith("partly demo data — 75 real of 1,155, the rest generated")


def test_short_labels_and_missing_provenance() -> None:
    payload = {
        "b": _entry("buildings", 8201),
        "c": _entry("cameras", 3000, 3000),
        "d": _entry("districts", 8),
    }
    out = _run(
        "[f.provenanceShort(p.b, 'ru'), f.provenanceShort(p.c, 'en'), f.provenanceShort(p.d, 'kk'),"
        " f.provenanceLine(null, 'kk'), f.dataYear(p.b), f.provenanceShort(p.b.provenance, 'en')]",
        payload,
    )
    assert out == [
        "OSM 2012, очень неполные",
        "demo data, not the city’s",
        "OSM 2024, толық",
        "дерек жоқ",
        2012,
        "OSM 2012, sparse",
    ]
