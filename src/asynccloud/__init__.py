"""asynccloud: one async API for compute, object storage, DNS and load balancers on any cloud."""
