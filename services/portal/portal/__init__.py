"""The web portal: server-rendered pages for companies, experts, evaluators and center staff, acting through the
five services' HTTP APIs with short-lived signed tokens, and a notifier that turns events into notices."""
