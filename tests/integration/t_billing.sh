#!/usr/bin/env bash
# Billing with Stripe end to end: the webhook route (signatures, rotation, dedup, stale events,
# rollback), the billing routes against stripe-sim (Checkout paid by card, the portal, renewal and
# a failed payment by the sim's clock), overage in the charge with its outbox, and kbook-billing
# reconciling with Stripe under faults and kill -9 (see billing_check.py).
set -u
. "$TEST_ROOT/tests/integration/lib.sh"
exec /usr/bin/python3 "$TEST_ROOT/tests/integration/billing_check.py"
