"""dbt packages as `dbt deps` leaves them, on every engine: a local package's macros under
its name, adapter.dispatch with the project's search order and default__ fallbacks, a
package's generic test, dbt's cross-database macros; `fduck deps` for local, git and hub
packages. benchmarks/compare_dbt.py builds the same fixture with dbt."""

from __future__ import annotations

import datetime
import decimal
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from featureduck.api import Project
from featureduck.errors import FeatureDuckError
from featureduck.tasks.options import Selector
from tests.conftest import ENGINE_TARGETS, FIXTURES, fduck, write_engine_profile

EXPECTED_FACTS = [
    (1, "ann", "6d74d61c778f2b3137ec2db21dd14494", 12.5, "root:ann", datetime.datetime(2024, 1, 1), datetime.date(2024, 2, 1), 29,
     datetime.date(2024, 1, 31), "b", 12, "false", 3, "nn", 2, "aNN", "it's"),
    (2, "bob", "51a2c67e4274a7c4cc9f5f5316f90879", 0.99, "root:bob", datetime.datetime(2024, 2, 1), datetime.date(2024, 2, 29), 57,
     datetime.date(2024, 2, 29), "b", 12, "true", 3, "ob", 0, "bob", "it's"),
    (3, "cy", "46e984dd2432cd97e00993119e40c2f6", 1000.0, "root:cy", datetime.datetime(2024, 3, 1), datetime.date(2024, 4, 2), 90,
     datetime.date(2024, 3, 31), "b", 12, "true", 2, "cy", 0, "cy", "it's"),
]


def _normal(value: Any) -> Any:
    return float(value) if isinstance(value, decimal.Decimal) else value


@pytest.fixture
def packaged(tmp_path: Path) -> Path:
    root = tmp_path / "packaged"
    shutil.copytree(FIXTURES / "dbt_packages", root)
    return root


@pytest.mark.parametrize("target", ENGINE_TARGETS)
def test_a_project_with_a_local_package_builds_on_every_engine(packaged: Path, target: str, request: pytest.FixtureRequest) -> None:
    if target != "dev":
        write_engine_profile(target, packaged, request, "packaged")
        text = (packaged / "dbt_project.yml").read_text().replace("profile: packaged", "profile: default")
        (packaged / "dbt_project.yml").write_text(text)
    installed = fduck("deps", cwd=packaged)
    assert installed.returncode == 0 and "installed shop_utils (local_packages/shop_utils): linked" in installed.stdout
    assert (packaged / "dbt_packages" / "shop_utils").is_symlink()
    project = Project.load(packaged, target=target)
    results, tests = project.build()
    assert [(r.name, r.status) for r in results.results if r.status != "success"] == []
    assert sorted((t.test.name, t.status) for t in tests) == [("not_null_currency_orders_currency", "pass"),
        ("shop_utils_at_most_order_facts_amount__1000", "pass"), ("unique_order_facts_id", "pass")]
    schema = project.target.schema
    with project.session() as session:
        facts = sorted(tuple(_normal(v) for v in row) for row in session.adapter.execute(f"SELECT * FROM {schema}.order_facts"))
        rollup = session.adapter.execute(f"SELECT * FROM {schema}.order_rollup")
        # the package's model: a table (its project file), in <schema>_utils (the project's), its macros, var and seed
        converted = sorted(tuple(_normal(v) for v in row) for row in session.adapter.execute(
            f"SELECT id, amount, currency, rate FROM {schema}_utils.currency_orders"))
    assert facts == EXPECTED_FACTS
    assert [tuple(row) for row in rollup] == [("ann, bob, cy", True, 3)]
    assert [row[2:] for row in converted] == [("EUR", 1.0)] * 3 and [row[0] for row in converted] == [1, 2, 3]
    compiled = project.compile().models["currency_orders"]
    assert compiled.unique_id == "model.shop_utils.currency_orders" and compiled.materialized == "table"
    assert project.compile().models["order_facts"].materialized == "view"  # the package's +materialized is its own
    assert sorted(project.selection(Selector.of("package:shop_utils")).selected) == [
        "model.shop_utils.currency_orders", "seed.shop_utils.currencies", "test.shop_utils.not_null_currency_orders_currency"]


def test_a_declared_package_that_is_not_installed_is_named(packaged: Path) -> None:
    (packaged / "packages.yml").write_text("packages:\n  - local: local_packages/shop_utils\n  - package: dbt-labs/dbt_utils\n"
                                           "    version: [\">=1.0.0\", \"<2.0.0\"]\n")
    result = fduck("compile", cwd=packaged)
    assert result.returncode != 0
    assert "packages.yml:3: package dbt-labs/dbt_utils (>=1.0.0, <2.0.0) is not installed in dbt_packages/" in result.stderr
    assert "fduck deps" in result.stderr


def test_unknown_package_tests_and_dispatch_misses_are_errors(packaged: Path) -> None:
    schema = packaged / "models" / "schema.yml"
    schema.write_text(schema.read_text().replace("shop_utils.at_most", "shop_utilz.at_most"))
    with pytest.raises(FeatureDuckError, match="comes from package 'shop_utilz', which is not installed"):
        Project.load(packaged).test()
    (packaged / "models" / "missing.sql").write_text("select {{ adapter.dispatch('nothing_here', 'shop_utils')() }} as x")
    error = Project.load(packaged).compile().errors["missing"]
    assert "adapter.dispatch found no macro 'nothing_here' in namespace 'shop_utils'" in str(error)
    assert "packaged.duckdb__nothing_here, packaged.default__nothing_here, shop_utils.duckdb__nothing_here" in str(error)


def test_deps_clones_a_git_package_and_names_an_unreachable_hub(packaged: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    repository = tmp_path / "git_pkg"
    shutil.copytree(packaged / "local_packages" / "shop_utils", repository)
    shutil.rmtree(repository / "models")  # its macros only: shop_utils has the models of those names
    shutil.rmtree(repository / "seeds")
    (repository / "dbt_project.yml").write_text((repository / "dbt_project.yml").read_text().replace("shop_utils", "git_utils"))
    for command in (["init", "-q", "-b", "main"], ["add", "."],
                    ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "package"], ["tag", "v1"]):
        subprocess.run(["git", *command], cwd=repository, check=True)
    (packaged / "packages.yml").write_text(f"packages:\n  - local: local_packages/shop_utils\n  - git: {repository.as_uri()}\n"
                                           "    revision: v1\n")
    installed = Project.install_packages(packaged)
    assert [(p.name, p.how) for p in installed] == [("shop_utils", "linked"), ("git_utils", "cloned at v1")]
    assert (packaged / "dbt_packages" / "git_utils" / "macros" / "money.sql").is_file()
    assert Project.load(packaged).build()[0].failed is False
    import featureduck.tasks.deps as deps

    monkeypatch.setattr(deps, "HUB", "http://127.0.0.1:9/api/v1")  # nothing listens: as offline
    (packaged / "packages.yml").write_text("packages:\n  - package: dbt-labs/dbt_utils\n    version: 1.3.0\n")
    with pytest.raises(FeatureDuckError, match=r"package dbt-labs/dbt_utils \(1.3.0\): could not download"):
        Project.install_packages(packaged)


def test_a_change_to_a_packages_project_file_is_compiled_not_served_from_the_cache(packaged: Path) -> None:
    assert fduck("deps", cwd=packaged).returncode == 0
    assert Project.load(packaged).compile().models["currency_orders"].materialized == "table"
    package_file = packaged / "local_packages" / "shop_utils" / "dbt_project.yml"
    package_file.write_text(package_file.read_text().replace("+materialized: table", "+materialized: view")
                            .replace("shop_currency: EUR", "shop_currency: USD"))
    again = Project.load(packaged).compile()
    assert not again.from_cache
    assert again.models["currency_orders"].materialized == "view" and "'USD' AS currency" in again.models["currency_orders"].sql
