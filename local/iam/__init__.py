"""IAM as AWS enforces it, offline: the template's policies rendered as CloudFormation would, and
every AWS call a function or the state machine makes judged by its role's policy."""
