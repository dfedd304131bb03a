"""The HTTP plumbing the JSON API (``cnvisa.api``) and the pages (``cnvisa.web``) share: settings, who is
signed in, CSRF, sessions and tokens, problem+json, rate limits, the language. It imports the core, never
``api`` or ``web``."""
