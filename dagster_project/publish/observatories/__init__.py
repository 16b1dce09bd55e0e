"""What the regional quality observatories read: the published warehouse and `qa query`."""
