"""checkdmarc as an SPF oracle for xdiag's interop tests and benchmark.

Usage:
  spf_oracle.py --server 127.0.0.1:15354 DOMAIN...        one JSON object per domain, as a JSON list
  spf_oracle.py --server ... --bench N DOMAIN...           time the whole set N times (fresh caches)

For each domain it does what checkdmarc.spf.check_spf does (query the record, then parse it with
the lookup limit reported rather than raised), but keeps the exception's class so that the verdict
is a category and not a sentence:

  valid                  a record that evaluates without a permanent error
  nxdomain               the domain does not exist               (RFC 7208 section 4.3: none)
  no-record              no v=spf1 record                         (section 4.5: none)
  multiple-records       more than one v=spf1 record              (section 4.5: permerror)
  syntax-error           a term that does not parse               (section 4.6: permerror)
  too-many-lookups       more than 10 lookup terms, or an mx term with more than 10 hosts (4.6.4)
  too-many-void-lookups  more than 2 lookups with no answer        (section 4.6.4)
  include-loop / redirect-loop
  include-target-missing an include (or redirect) target has no SPF record (sections 5.2, 6.1)

dns_lookups / void_dns_lookups are checkdmarc's own counters (None where it gives none: it stops
counting at the first error). checkdmarc's DNS cache is cleared before each domain in the normal
mode, so every domain is judged on its own; the bench mode clears it once per pass over the set,
as one checkdmarc run over many domains would.
"""

import argparse
import json
import statistics
import sys
import time

import checkdmarc
import dns.nameserver
from checkdmarc import spf, utils


def nameservers(server: str):
    host, port = server.rsplit(":", 1)
    return [dns.nameserver.Do53Nameserver(host, int(port))]


def category(error: Exception, record_found: bool) -> str:
    message = str(error)
    if isinstance(error, spf.MultipleSPFRTXTRecords):
        return "multiple-records"
    if isinstance(error, spf.SPFTooManyVoidDNSLookups):
        return "too-many-void-lookups"
    if isinstance(error, spf.SPFTooManyDNSLookups):
        return "too-many-lookups"
    if isinstance(error, spf.SPFIncludeLoop):
        return "include-loop"
    if isinstance(error, spf.SPFRedirectLoop):
        return "redirect-loop"
    if isinstance(error, spf.SPFSyntaxError):
        return "syntax-error"
    if isinstance(error, spf.SPFRecordNotFound):
        # Raised after the domain's own record was found: an include or redirect target has none
        # (for a redirect checkdmarc passes the target's own error up, "The domain does not exist.").
        if record_found or "include target" in message:
            return "include-target-missing"
        if "does not exist" in message and "SPF record" not in message:
            return "nxdomain"
        return "no-record"
    return "other"


def parsed_error_category(message: str) -> str:
    # With the lookup limit reported rather than raised, parse_spf_record puts it in "error".
    if "void DNS lookups" in message:
        return "too-many-void-lookups"
    if "maximum DNS lookups" in message or "more than 10 MX" in message:
        return "too-many-lookups"
    return "other"


def judge(domain: str, ns, timeout: float) -> dict:
    out = {"domain": domain, "record": None, "dns_lookups": None, "void_dns_lookups": None,
           "verdict": "valid", "error": None, "error_class": None, "warnings": []}
    try:
        query = spf.query_spf_record(domain, nameservers=ns, timeout=timeout)
        out["record"] = query["record"]
        out["warnings"] += query.get("warnings", [])
        parsed = spf.parse_spf_record(query["record"], domain, ignore_too_many_lookups=True,
                                      nameservers=ns, timeout=timeout)
        out["dns_lookups"] = parsed["dns_lookups"]
        out["void_dns_lookups"] = parsed["void_dns_lookups"]
        out["warnings"] += parsed.get("warnings", [])
        if "error" in parsed:
            out["error"] = parsed["error"]
            out["verdict"] = parsed_error_category(parsed["error"])
    except spf.SPFError as error:
        out["error"] = str(error)
        out["error_class"] = type(error).__name__
        out["verdict"] = category(error, out["record"] is not None)
        for key, value in (error.data or {}).items():
            out[key] = value
        out["warnings"] += error.warnings
    return out


def main():
    ap = argparse.ArgumentParser(description="checkdmarc as an SPF oracle (JSON out)")
    ap.add_argument("--server", required=True, help="DNS server as IP:PORT")
    ap.add_argument("--timeout", type=float, default=2.0)
    ap.add_argument("--bench", type=int, default=0, help="time the set this many times")
    ap.add_argument("domains", nargs="*")
    a = ap.parse_args()
    domains = a.domains or [line.strip() for line in sys.stdin if line.strip()]
    ns = nameservers(a.server)

    if a.bench:
        runs, results = [], []
        for _ in range(a.bench):
            utils.DNS_CACHE.clear()
            start = time.perf_counter()
            results = [spf.check_spf(d, nameservers=ns, timeout=a.timeout) for d in domains]
            runs.append(time.perf_counter() - start)
        verdicts = {d: r.get("error") or "valid" for d, r in zip(domains, results)}
        json.dump({"checkdmarc": checkdmarc.__version__, "domains": len(domains), "runs_s": runs,
                   "median_s": statistics.median(runs), "verdicts": verdicts}, sys.stdout, indent=1)
        print()
        return

    results = []
    for d in domains:
        utils.DNS_CACHE.clear()
        results.append(judge(d, ns, a.timeout))
    json.dump({"checkdmarc": checkdmarc.__version__, "results": results}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
