"""Shadow mirroring: the challenger answers copies of served requests; compared, reported."""
