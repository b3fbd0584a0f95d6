"""Work queues: rules that open and clear work items, the priority score, claim-next, reassignment."""
