"""The coordinators' dashboard and the live data feed, served by `coordbot run` (and `coordbot
chat`) when COORDBOT_WEB_LISTEN or COORDBOT_WEB_BASE_URL is set. Login is a single-use link
given in a direct chat by `/dashboard`; see docs/dashboard.md."""
