"""The audit log: who changed what, and when; written inside the transaction of the change."""
