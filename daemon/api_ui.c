/*
 * api_ui.c: GET / — the leaders' dashboard (daemon/ui/dashboard.html,
 * embedded at build time by daemon/ui/embed.cmake).  The page holds no
 * data, so it needs no token; it asks for one and reads everything through
 * the API with it.  Its headers forbid every resource but this node's own
 * API: nothing is loaded from elsewhere, and the page cannot be framed.
 */
#include <stddef.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api.h"

extern const unsigned char ui_dashboard_html[];
extern const size_t ui_dashboard_html_len;

void
api_dashboard(struct http_api *h, struct evhttp_request *req, const char *rest,
    const char *who)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	evhttp_add_header(out, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "Content-Security-Policy",
	    "default-src 'none'; script-src 'unsafe-inline'; style-src "
	    "'unsafe-inline'; connect-src 'self'; img-src data:; "
	    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evbuffer_add_reference(evhttp_request_get_output_buffer(req),
	    ui_dashboard_html, ui_dashboard_html_len, NULL, NULL);
	evhttp_send_reply(req, 200, "OK", NULL);
}
