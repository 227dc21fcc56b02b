"""From a rendered template to a checked statement: template data, caller-value markers, binding, statement rules."""
