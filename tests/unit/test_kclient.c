/* test_kclient.c - what the API server says reaches the terminal escaped. */
#include <string.h>

#include "harness.h"
#include "collector/kclient.h"
#include "util/buf.h"
#include "util/err.h"

static int
answer(long status, const char *body)
{
	struct kc_response resp;
	int r;

	memset(&resp, 0, sizeof(resp));
	kc_buf_init(&resp.body, 1 << 16);
	resp.status = status;
	kc_buf_adds(&resp.body, body);
	r = kc_response_error(&resp, "GET", "/api/v1/namespaces");
	kc_buf_free(&resp.body);
	return r;
}

DEFINE_TEST(test_kclient_status_message_escaped)
{
	/* an ANSI sequence and a forged second line in the Status message */
	CHECK_INT(answer(500, "{\"kind\":\"Status\",\"message\":\"etcd \\u001b[2J\\u001b[31mtimeout\\n"
	    "kcustody: all checks passed\"}"), KC_ERR_HTTP);
	CHECK_STR(kc_err_msg(), "GET /api/v1/namespaces: HTTP 500: etcd \\x1b[2J\\x1b[31mtimeout"
	    "\\x0akcustody: all checks passed");
	CHECK(strchr(kc_err_msg(), '\x1b') == NULL && strchr(kc_err_msg(), '\n') == NULL);
	/* the twin: a plain message is passed on as the server wrote it */
	CHECK_INT(answer(403, "{\"kind\":\"Status\",\"message\":\"namespaces is forbidden: "
	    "User \\\"x\\\" cannot list\"}"), KC_ERR_FORBIDDEN);
	CHECK_STR(kc_err_msg(), "GET /api/v1/namespaces: HTTP 403: namespaces is forbidden: "
	    "User \"x\" cannot list");
}
