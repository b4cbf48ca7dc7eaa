/* fundflow-admin verify's check of the Merkle tree and the stored signed head. */
#ifndef FUNDFLOW_ADMIN_TREE_H
#define FUNDFLOW_ADMIN_TREE_H

#include "ledger.h"
#include "verify.h"

/* Takes verify's check of the tree against the log (checked: every stored hash recomputed; or,
 * if it was not made, makes it with tree_check); then checks the latest signed head in the data
 * directory: its size is within the log, the tree of that size has its root, and its signature
 * verifies with the data directory's key. Prints "OK: ..." on stdout and returns 0, or
 * "FAILED: ..." and returns 1. */
int admin_tree_verify(ff_ledger *ledger, const verify_tree_report *checked);

#endif
