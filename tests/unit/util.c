/*  Helpers shared by the table and answer-engine tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bulwark/compile.h"
#include "bulwark/table.h"
#include "bulwark/wire.h"
#include "util.h"

/* The key directory tu_compile() signs with, or NULL. */
static const char *sign_keydir;

int tu_compile(const char *text, const char *origin, struct bw_diag *d,
               uint8_t **table, size_t *len)
{
	char path[] = "/tmp/bw-test-zone-XXXXXX";
	uint8_t apex[BW_NAME_MAXLEN];
	struct bw_compile_opts opts = { .keydir = sign_keydir, .threads = 1 };
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	if (origin != NULL) {
		tu_name(apex, origin);
		opts.origin = apex;
	}
	d->quiet = 1;
	int ret = bw_compile_file(path, &opts, d, table, len);
	unlink(path);
	return ret;
}

struct bw_table *tu_load_signed(const char *text, const char *origin)
{
	char dir[] = "/tmp/bw-test-keys-XXXXXX";
	char cmd[128];

	assert_non_null(mkdtemp(dir));
	sign_keydir = dir;  /* Empty: the compiler makes a CSK there. */
	struct bw_table *t = tu_load(text, origin);
	sign_keydir = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return t;
}

struct bw_table *tu_load(const char *text, const char *origin)
{
	struct bw_diag d = { 0 };
	struct bw_table *t = NULL;
	uint8_t *data;
	size_t len;
	char err[256];

	int ret = tu_compile(text, origin, &d, &data, &len);
	if (ret != 0)
		fail_msg("compile failed: %s:%u: %s", d.first_file, d.first_line,
		         d.first_msg);
	ret = bw_table_from_mem(data, len, true, &t, err, sizeof(err));
	if (ret != 0)
		fail_msg("load failed: %s", err);
	return t;
}

void tu_name(uint8_t *out, const char *text)
{
	int ret = bw_name_from_text(out, text, strlen(text), (const uint8_t *)"");
	assert_true(ret > 0);
}

size_t tu_query(uint8_t *buf, const char *name, uint16_t type,
                const struct tu_q *opt)
{
	struct tu_q def = { .id = 0x1234, .qclass = BW_CLASS_IN };
	const struct tu_q *o = opt ? opt : &def;
	struct bw_hdr h = { .id = o->id, .flags = o->flags, .qdcount = 1,
	                    .arcount = o->edns ? 1 : 0 };
	size_t pos = BW_HDR_LEN;

	bw_hdr_write(buf, &h);
	int n = bw_name_from_text(buf + pos, name, strlen(name), (const uint8_t *)"");
	assert_true(n > 0);
	pos += (size_t)n;
	bw_put16(buf + pos, type);
	bw_put16(buf + pos + 2, o->qclass ? o->qclass : BW_CLASS_IN);
	pos += 4;
	if (o->edns) {
		buf[pos] = 0;
		bw_put16(buf + pos + 1, BW_TYPE_OPT);
		bw_put16(buf + pos + 3, o->bufsize);
		buf[pos + 5] = 0;
		buf[pos + 6] = o->version;
		bw_put16(buf + pos + 7, o->do_bit ? BW_EDNS_DO : 0);
		bw_put16(buf + pos + 9, o->nsid ? 4 : 0);
		pos += 11;
		if (o->nsid) {
			bw_put16(buf + pos, BW_EDNS_NSID);
			bw_put16(buf + pos + 2, 0);
			pos += 4;
		}
	}
	return pos;
}

static size_t parse_rdata(uint16_t type, const uint8_t *msg, size_t len,
                          size_t pos, size_t rdlen, uint8_t *out)
{
	size_t lead = 0, names = 0, next;

	switch (type) {
	case BW_TYPE_NS: case BW_TYPE_CNAME: case BW_TYPE_PTR:
		names = 1;
		break;
	case BW_TYPE_MX:
		lead = 2;
		names = 1;
		break;
	case BW_TYPE_SOA:
		names = 2;
		break;
	default:
		assert_true(rdlen <= 1024);
		memcpy(out, msg + pos, rdlen);
		return rdlen;
	}
	size_t at = lead, end = pos + rdlen;
	memcpy(out, msg + pos, lead);
	pos += lead;
	for (size_t i = 0; i < names; i++) {
		int n = bw_name_unpack(msg, len, pos, out + at, &next);
		assert_true(n > 0);
		at += (size_t)n;
		pos = next;
	}
	assert_true(end >= pos);
	memcpy(out + at, msg + pos, end - pos);
	return at + (end - pos);
}

void tu_parse(const uint8_t *msg, size_t len, struct tu_resp *r)
{
	struct bw_hdr h;
	size_t pos = BW_HDR_LEN, next;

	memset(r, 0, sizeof(*r));
	assert_true(len >= BW_HDR_LEN);
	bw_hdr_read(msg, &h);
	r->id = h.id;
	r->flags = h.flags;
	r->qd = h.qdcount;
	r->an = h.ancount;
	r->ns = h.nscount;
	r->ar = h.arcount;
	r->rcode = BW_RCODE(h.flags);
	if (h.qdcount == 1) {
		int n = bw_name_unpack(msg, len, pos, r->qname, &next);
		assert_true(n > 0);
		pos = next + 4;
	}
	unsigned total = (unsigned)h.ancount + h.nscount + h.arcount;
	assert_true(total <= 128);
	for (unsigned i = 0; i < total; i++) {
		struct tu_rr *rr = &r->rr[r->nrr++];
		assert_true(bw_name_unpack(msg, len, pos, rr->owner, &next) > 0);
		assert_true(next + 10 <= len);
		rr->type = bw_get16(msg + next);
		rr->cls = bw_get16(msg + next + 2);
		rr->ttl = bw_get32(msg + next + 4);
		size_t rdlen = bw_get16(msg + next + 8);
		assert_true(next + 10 + rdlen <= len);
		rr->section = i < h.ancount ? 0 : i < (unsigned)h.ancount + h.nscount ? 1 : 2;
		rr->rdlen = (uint16_t)parse_rdata(rr->type, msg, len, next + 10, rdlen, rr->rdata);
		if (rr->type == BW_TYPE_OPT) {
			r->opt = true;
			r->opt_size = rr->cls;
			r->opt_do = (rr->ttl & BW_EDNS_DO) != 0;
			r->rcode |= (uint8_t)((rr->ttl >> 24) << 4);
		}
		pos = next + 10 + rdlen;
	}
	assert_int_equal(pos, len);
}

int tu_find(const struct tu_resp *r, int section, uint16_t type)
{
	for (size_t i = 0; i < r->nrr; i++) {
		if (r->rr[i].section == section && r->rr[i].type == type)
			return (int)i;
	}
	return -1;
}
