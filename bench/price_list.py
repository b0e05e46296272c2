"""Stream time and peak memory of `prices update` on a large generated AmazonEC2 offer file.

Writes an offer file in AWS's bulk format (products, then OnDemand and Reserved terms; most products are ones the
updater drops, as in the real multi-gigabyte EC2 file: other operating systems, tenancies, pre-installed
software, instance types the catalog lacks) to a temporary folder, then in this one process measures:

- baseline: reading the file's bytes in 1 MiB chunks (the floor any parser pays), and `json.load` of a
  tenth-size file (what not streaming costs in memory);
- `read_price_list` on the whole file: seconds, MB/s, and peak RSS growth (resource.getrusage).

Run: `nice -n 10 .venv/bin/python bench/price_list.py [--mb 300]`.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from inferplan.catalog import load_catalog
from inferplan.catalog.pricelist import read_price_list

OSES = ("Linux", "Windows", "RHEL", "SUSE", "Ubuntu Pro", "Red Hat Enterprise Linux with HA")
TENANCY = ("Shared", "Dedicated", "Host")
SW = ("NA", "SQL Web", "SQL Std")
TYPES = ("g5.xlarge", "g5.2xlarge", "p5.48xlarge", "m5.large", "c6i.xlarge", "r7g.2xlarge", "inf2.xlarge")


def _product(i: int) -> tuple[str, dict]:
    sku = f"SKU{i:013d}"
    itype = TYPES[i % len(TYPES)] if i % 11 else f"x{i % 500}.{(i // 500) % 9}xlarge"
    return sku, {"sku": sku, "productFamily": "Compute Instance", "attributes": {
        "servicecode": "AmazonEC2", "location": "US East (N. Virginia)", "locationType": "AWS Region",
        "instanceType": itype, "currentGeneration": "Yes", "instanceFamily": "GPU instance", "vcpu": "4",
        "memory": "16 GiB", "storage": "EBS only", "networkPerformance": "Up to 10 Gigabit",
        "processorArchitecture": "64-bit", "tenancy": TENANCY[(i // 7) % 3], "operatingSystem": OSES[(i // 3) % 6],
        "licenseModel": "No License required", "usagetype": f"BoxUsage:{itype}", "operation": "RunInstances",
        "capacitystatus": ("Used", "UnusedCapacityReservation", "AllocatedCapacityReservation")[(i // 5) % 3],
        "gpu": "1", "preInstalledSw": SW[(i // 13) % 3], "regionCode": ("us-east-1", "eu-west-1")[i % 2],
        "servicename": "Amazon Elastic Compute Cloud"}}


def _terms(sku: str, i: int) -> tuple[dict, dict]:
    od = {f"{sku}.JRTCKXETXF": {"offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2026-03-01T00:00:00Z",
                                "priceDimensions": {f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                    "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                                    "description": f"${1 + i % 97 / 100:.3f} per On Demand Linux Instance Hour",
                                    "beginRange": "0", "endRange": "Inf", "unit": "Hrs",
                                    "pricePerUnit": {"USD": f"{1 + i % 97 / 100:.10f}"}, "appliesTo": []}},
                                "termAttributes": {}}}
    res = {}
    for code, length, option in (("4NA7Y494T4", "1yr", "No Upfront"), ("NQ3QZPMQV9", "3yr", "All Upfront")):
        res[f"{sku}.{code}"] = {"offerTermCode": code, "sku": sku, "effectiveDate": "2026-03-01T00:00:00Z",
                                "priceDimensions": {f"{sku}.{code}.6YS6EN2CT7": {
                                    "rateCode": f"{sku}.{code}.6YS6EN2CT7", "description": "reserved instance applied",
                                    "beginRange": "0", "endRange": "Inf", "unit": "Hrs",
                                    "pricePerUnit": {"USD": "0.6340000000"}, "appliesTo": []}},
                                "termAttributes": {"LeaseContractLength": length, "OfferingClass": "standard",
                                                   "PurchaseOption": option}}
    return od, res


def generate(path: Path, target_mb: float) -> int:
    """Write an offer file of about `target_mb` MB; returns the number of products."""
    per = len(json.dumps(_product(1)[1])) + len(json.dumps(_terms("SKU0000000000001", 1)[0])) \
        + len(json.dumps(_terms("SKU0000000000001", 1)[1])) + 60
    n = int(target_mb * 1e6 / per)
    with path.open("w") as fh:
        fh.write('{"formatVersion":"v1.0","disclaimer":"generated","offerCode":"AmazonEC2",'
                 '"version":"20260301000000","publicationDate":"2026-03-01T00:00:00Z","products":{')
        for i in range(n):
            sku, p = _product(i)
            fh.write(("," if i else "") + json.dumps(sku) + ":" + json.dumps(p))
        for name, pos in (("OnDemand", 0), ("Reserved", 1)):
            fh.write(("},\"terms\":{" if name == "OnDemand" else "},") + f'"{name}":{{')
            for i in range(n):
                sku = f"SKU{i:013d}"
                fh.write(("," if i else "") + json.dumps(sku) + ":" + json.dumps(_terms(sku, i)[pos]))
        fh.write("}}}")
    return n


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=300)
    args = ap.parse_args()
    cat = load_catalog(warn_stale=False, user_config=False)
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "ec2.json", Path(tmp) / "ec2_small.json"
        n = generate(big, args.mb)
        n_small = generate(small, args.mb / 10)
        size = big.stat().st_size / 1e6
        t0 = time.perf_counter()
        with big.open("rb") as fh:
            while fh.read(1 << 20):
                pass
        t_read = time.perf_counter() - t0
        rss0 = _rss_mb()
        t0 = time.perf_counter()
        up = read_price_list([big], cat)
        t_stream = time.perf_counter() - t0
        rss_stream = _rss_mb() - rss0
        st = up.stats[0]
        rss1 = _rss_mb()
        t0 = time.perf_counter()
        doc = json.loads(small.read_bytes())
        t_load = time.perf_counter() - t0
        rss_load = _rss_mb() - rss1
        del doc
    print(json.dumps({
        "file_mb": round(size, 1), "products": n, "products_kept": st.products_kept, "rows": st.rows,
        "terms_read": st.terms_read,
        "stream_s": round(t_stream, 2), "stream_mb_per_s": round(size / t_stream, 1),
        "raw_read_s": round(t_read, 2), "stream_vs_raw_read": round(t_stream / t_read, 1),
        "stream_peak_rss_growth_mb": round(rss_stream, 1),
        "json_load_tenth_file_mb": round(size / 10, 1), "json_load_tenth_s": round(t_load, 2),
        "json_load_tenth_peak_rss_growth_mb": round(rss_load, 1), "small_products": n_small,
    }, indent=2))


if __name__ == "__main__":
    main()
