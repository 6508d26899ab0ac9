"""One consumer module per upstream domain, each with its own group: members of one group with
different subscriptions would keep rebalancing each other."""
