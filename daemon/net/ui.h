/* fundflowd's web view: the UI's static files, served under /ui/ from one directory (--ui-dir,
 * ui_dir, or the install prefix's share/fundflow/ui).
 *
 * GET and HEAD only. A request's path is percent-decoded, checked name by name (no empty name,
 * none starting with '.', no backslash or control byte), and each name is opened relative to the
 * one before it with O_NOFOLLOW, so no path reaches outside the directory: not "..", not an
 * encoded one, not a symbolic link. Only regular files are served, with a content type by
 * extension, the security headers (a Content-Security-Policy allowing only the server's own
 * origin), Cache-Control: no-cache and an ETag (304 on If-None-Match). The files need no token:
 * they are public; the data comes from the Twirp API, which enforces access.
 */
#ifndef FUNDFLOW_UI_H
#define FUNDFLOW_UI_H

#include <event2/http.h>
#include <stdbool.h>

/* The Content-Security-Policy of every web-view response: the server's own origin only. */
#define UI_CONTENT_SECURITY_POLICY                                                              \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "           \
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "                 \
    "frame-ancestors 'none'; form-action 'self'"

/* What ui_answer decided; its headers are on the request already. */
typedef struct ui_reply {
    int status;            /* 200, 302, 304, 404, 405 or 500 */
    const char *reason;    /* the status line's phrase */
    const char *code;      /* for the metrics and the request log: "ok", "not_found",
                            * "bad_route" (405) or "internal" */
    struct evbuffer *body; /* NULL for none; the caller frees it */
} ui_reply;

/* True for the paths the web view answers: "/", "/ui" and everything under "/ui/". */
bool ui_route_is(const char *path);

/* Answers a request for a path ui_route_is accepts: "/" and "/ui" redirect to "/ui/", a path
 * ending in '/' is that folder's index.html. Sets the reply's headers on the request's output
 * headers and fills reply; sends nothing. directory is the UI directory, or "" for none: then
 * every file is 404 with a sentence saying how to give one. Event-loop thread. */
void ui_answer(const char *directory, struct evhttp_request *request, const char *path,
               ui_reply *reply);

#endif
