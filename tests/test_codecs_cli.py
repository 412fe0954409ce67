"""`smati codecs list|test`, and `smati registry load` storing each codec's program."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import yaml
from click.testing import CliRunner

from services.codec_packages import package_program
from smati.cli import main
from storage.registry_store import load_registry

SITE = Path(__file__).parent / "codecs" / "site.yaml"


def smati(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_list_names_native_codecs_and_the_npm_packages_device_types() -> None:
    code, out, _ = smati("codecs", "list", "--registry", str(SITE))
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "ports: 100" in lines["axioma-qalcosonic-w1"]
    assert "ports: any" in lines["milesight-em300"]
    types = next(line for line in out.splitlines() if "device_type:" in line)
    assert {"temp", "pulse", "ticCbeLinkyMono", "ticCbeLinkyTri"} <= set(
        types.split("device_type:")[1].replace(",", " ").split()
    )
    assert "tlv-climate.js" in lines["tlv-climate"]


def test_test_prints_the_decoded_object_of_an_npm_packages_codec() -> None:
    code, out, _ = smati(
        "codecs", "test", "@adeunis/codecs", "43A2D1015E82FF06",
        "--option", "device_type=temp", "--option", "network=sigfox",
    )  # fmt: skip
    assert code == 0
    decoded = json.loads(out)
    assert [probe["value"] for probe in decoded["temperatures"]] == [35, -25]
    assert decoded["temperatures"][0]["unit"] == "°C"


def test_test_takes_base64_a_port_and_a_registry_files_codec() -> None:
    code, out, _ = smati(
        "codecs", "test", "tlv-climate", "AXVkA2cRAQRobA==", "--port", "1", "--registry", str(SITE)
    )
    assert code == 0
    assert json.loads(out) == {"battery": 100, "temperature": 27.3, "humidity": 54}


def test_test_shows_the_codecs_errors_and_fails() -> None:
    code, out, err = smati("codecs", "test", "@adeunis/codecs", "9900", "--option",
                           "device_type=temp")  # fmt: skip
    assert (code, out) == (1, "")
    assert err == "Error: Unsupported frame for an Adeunis temp\n"
    code, _, err = smati("codecs", "test", "milesight-em300", "01FF", "--port", "85")
    assert code == 1 and "unsupported channel 0x01 type 0xFF" in err
    code, _, err = smati("codecs", "test", "nope.js", "00")
    assert code == 1 and "unknown codec 'nope.js'" in err
    code, _, err = smati("codecs", "test", "milesight-em300", "zz!")
    assert code == 2 and "neither hex nor base64" in err


@pytest.mark.integration
def test_registry_load_stores_each_codecs_program(empty_database: str) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["--database-url", empty_database, "db", "migrate"]).exit_code == 0
    loaded = runner.invoke(main, ["--database-url", empty_database, "registry", "load", str(SITE)])
    assert loaded.exit_code == 0, loaded.output
    assert "3 codecs" in loaded.output
    with psycopg.connect(empty_database) as conn:
        codecs = {codec.id: codec for codec in load_registry(conn).codecs}
    tlv_file = SITE.parent.parent.parent / "benchmarks" / "codecs" / "tlv-climate.js"
    assert codecs["tlv-climate"].program == tlv_file.read_text()
    assert codecs["adeunis-temp-sigfox"].program == package_program("@adeunis/codecs")
    assert codecs["adeunis-temp-sigfox"].options == {"device_type": "temp", "network": "sigfox"}
    exported = runner.invoke(main, ["--database-url", empty_database, "registry", "export"])
    again = yaml.safe_load(exported.output)["codecs"]
    assert [(c["id"], c.get("file"), c.get("package"), "program" in c) for c in again] == [
        ("adeunis-temp-sigfox", None, "@adeunis/codecs", False),
        ("tlv-climate", "../../benchmarks/codecs/tlv-climate.js", None, False),
        ("misbehaving", "misbehaving.js", None, False),
    ]
    shown = runner.invoke(main, ["--database-url", empty_database, "registry", "show"]).output
    assert f"  tlv-climate  (../../benchmarks/codecs/tlv-climate.js, {len(tlv_file.read_text())} " \
        "characters)" in shown  # fmt: skip


def test_registry_load_names_a_codec_file_it_cannot_read(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("codecs:\n  - {id: gone, file: gone.js}\n")
    code, _, err = smati("--database-url", "postgresql://nobody@127.0.0.1:1/none", "registry",
                         "load", str(site))  # fmt: skip
    assert code == 1
    assert (
        err
        == f"Error: codec 'gone': cannot read {tmp_path / 'gone.js'}: No such file or directory\n"
    )
