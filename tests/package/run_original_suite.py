"""Runs the original `shoots` 0.1.1's own test suite (the `tests/` its wheel
ships, server set-up included) against this package, unchanged but for one
thing: its TLS certificate expired on 2025-06-03, so the TLS and JWT cases
get a fresh one for localhost. `large_datasets_test` (100M rows x 10
columns, 8 GB of pandas) is left out.

usage: python run_original_suite.py ORIGINAL_TESTS_DIR (run in a scratch directory)
"""

import sys
import unittest
from pathlib import Path

import trustme

tests = Path(sys.argv[1]).resolve()
sys.path[:0] = [str(tests), str(tests.parent)]

import shoots  # noqa: E402

# This package, not the original's (its wheel holds both folders).
assert "site-packages" in shoots.__file__ and hasattr(shoots, "serve"), shoots.__file__

import insecure_test  # noqa: E402
import tls_test  # noqa: E402
from tests import jwt_test  # noqa: E402
from tests import tls_test as tls_test_from_package  # noqa: E402

ca = trustme.CA()
cert = ca.issue_cert("localhost", "127.0.0.1")
for module in (tls_test, tls_test_from_package):
    module.TLSTest.server_cert = cert.cert_chain_pems[0].bytes().decode()
    module.TLSTest.server_key = cert.private_key_pem.bytes().decode()
    module.TLSTest.root_cert = ca.cert_pem.bytes().decode()

suite = unittest.TestSuite()
loader = unittest.TestLoader()
for case in (insecure_test.InsecureTest, tls_test.TLSTest, jwt_test.JWTTest):
    suite.addTests(loader.loadTestsFromTestCase(case))
result = unittest.TextTestRunner(verbosity=2).run(suite)
print(f"original suite: {result.testsRun} run, {len(result.failures)} failed, {len(result.errors)} errors, "
      f"{len(result.skipped)} skipped")
sys.exit(0 if result.wasSuccessful() and not result.skipped else 1)
