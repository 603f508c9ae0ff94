"""Benchmark of the mapping hot path (not a test): µs per customer for ``map_customer`` and ``payload_hash``.

    .venv/bin/python bench/bench_mapping.py [--customers 20000] [--repeat 5]

Builds the simulator's realistic base customers, round-tripped through JSON so they look like decoded search
pages, and times the current functions against the pre-optimisation ones kept in
``tests/unit/mapping_reference.py`` (imported by path). Each figure is the best of ``--repeat`` passes, the two
implementations taking turns. The machine's load moves the figures a lot; compare the two columns of one run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from magento_zoho_sims.magento.seed import StoreLayout, base_customer
from magento_zoho_sync import mapping
from magento_zoho_sync.mapping_config import DEFAULT_SPEC

REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "unit" / "mapping_reference.py"


def load_reference() -> ModuleType:
    """The frozen pre-optimisation implementation, loaded from its file (``tests`` is not an installed package)."""
    spec = importlib.util.spec_from_file_location("mapping_reference", REFERENCE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def customers(count: int) -> list[dict[str, Any]]:
    layout = StoreLayout(seed=1, count=count, now=1_800_000_000)
    built = [base_customer(layout, cid) for cid in range(1, count + 1)]
    decoded: list[dict[str, Any]] = json.loads(json.dumps(built))
    return decoded


def best_us(items: Sequence[Any], functions: Sequence[Callable[[Any], object]], repeat: int) -> list[float]:
    """µs per item for each function: the fastest of ``repeat`` passes over ``items``, the functions taking turns
    so that a busy machine slows them alike."""
    best = [float("inf")] * len(functions)
    for _ in range(repeat):
        for i, work in enumerate(functions):
            started = time.perf_counter()
            for item in items:
                work(item)
            best[i] = min(best[i], time.perf_counter() - started)
    return [seconds / len(items) * 1e6 for seconds in best]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    reference = load_reference()
    data = customers(args.customers)
    spec, limits = DEFAULT_SPEC, mapping.DEFAULT_LIMITS
    mapped = [m for m in (mapping.map_customer(c, spec, limits) for c in data) if isinstance(m, mapping.MappedCustomer)]
    payloads = [m.payload for m in mapped]
    print(f"{len(data)} customers ({len(payloads)} mapped), best of {args.repeat}, µs per customer:")

    figures: list[tuple[str, Callable[[Any], object], Callable[[Any], object], Sequence[Any]]] = [
        ("map_customer", reference.map_customer, mapping.map_customer, data),
        ("payload_hash", reference.payload_hash, mapping.payload_hash, payloads),
    ]
    for name, old, new, items in figures:
        before, after = best_us(items, [old, new], args.repeat)
        print(f"  {name:<13} reference {before:6.2f}   new {after:6.2f}   ({before / after:4.1f}x)")


if __name__ == "__main__":
    main()
