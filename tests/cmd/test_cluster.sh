#!/bin/bash
# The test cluster itself, checked with kubectl before anything relies on it
# (tests/cluster/selftest.sh): kubeconfig variants, restricted identities,
# the exec plugin, the audit log, and the controller manager's work.
exec bash "$(dirname "$0")/../cluster/selftest.sh"
