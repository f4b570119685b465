"""The serving hot path: request bodies, routing, features, answers, the V2 protocol."""
