"""Forms of the feedback staff pages, one module per sub-domain. They describe shape and
validate input; the rules live in the services."""
