"""The canary judge: challenger against champion on the same traffic, pure statistics."""
