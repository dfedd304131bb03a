"""One-stop work permit + work-type residence permit (一口受理、并联审批、同时发证): the joint application, its
work-permit branch, the desk and the join (issue 10 §1). The residence branch is an ordinary case."""
