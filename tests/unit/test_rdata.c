/*  bulwark — unit tests: rdata codecs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bulwark/diag.h"
#include "bulwark/wire.h"

#define MAXTOK 256

static const uint8_t origin[] = "\x07" "example" "\x03" "com";

/* Splits rdata text the way the zone parser does: on blanks, with
 * "quoted strings" as single tokens (quotes removed). */
static size_t tokenize(const char *s, struct bw_token *tok)
{
	size_t n = 0;

	for (;;) {
		while (*s == ' ')
			s++;
		if (*s == '\0')
			return n;
		assert_true(n < MAXTOK);
		bool q = *s == '"';
		const char *b = q ? ++s : s;
		while (*s && (q ? *s != '"' : *s != ' '))
			s += (*s == '\\' && s[1]) ? 2 : 1;
		tok[n++] = (struct bw_token){ b, (size_t)(s - b), q };
		if (q && *s == '"')
			s++;
	}
}

static int parse(uint16_t type, const char *txt, uint8_t *wire, char *err,
                 size_t errlen)
{
	struct bw_token tok[MAXTOK];
	size_t n = tokenize(txt, tok);

	return bw_rdata_from_text(type, tok, n, origin, wire, BW_RDATA_MAXLEN,
	                          err, errlen);
}

static void check_bad_wire(uint16_t type, const uint8_t *w, size_t n);

static uint8_t wire1[BW_RDATA_MAXLEN], wire2[BW_RDATA_MAXLEN];
static char text[70000];

/* Parses, prints, parses again: the text must be \a want and the wire
 * the same both times. */
static void round_trip(uint16_t type, const char *in, const char *want)
{
	char err[256];
	int len = parse(type, in, wire1, err, sizeof(err));

	if (len < 0)
		fail_msg("'%s' rejected: %s", in, err);
	assert_int_equal(bw_rdata_check(type, wire1, (size_t)len), 0);
	int tlen = bw_rdata_to_text(type, wire1, (size_t)len, text,
	                            sizeof(text));
	assert_true(tlen > 0);
	assert_string_equal(text, want ? want : in);
	int len2 = parse(type, text, wire2, err, sizeof(err));
	if (len2 < 0)
		fail_msg("output '%s' rejected: %s", text, err);
	assert_int_equal(len2, len);
	assert_memory_equal(wire1, wire2, (size_t)len);
	struct bw_rdata_name names[BW_RDATA_MAXNAMES];
	assert_true(bw_rdata_names(type, wire1, (size_t)len, names) >= 0);
}

static void bad(uint16_t type, const char *in, int code, const char *msg)
{
	char err[256] = "";
	int rc = parse(type, in, wire1, err, sizeof(err));

	if (rc >= 0)
		fail_msg("'%s' accepted", in);
	assert_int_equal(rc, code);
	if (strstr(err, msg) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", in, err, msg);
}

static void test_address(void **state)
{
	(void)state;
	round_trip(BW_TYPE_A, "192.0.2.1", NULL);
	round_trip(BW_TYPE_AAAA, "2001:db8::1", NULL);
	round_trip(BW_TYPE_AAAA, "2001:0db8:0:0:0:0:0:1", "2001:db8::1");
	round_trip(BW_TYPE_AAAA, "::ffff:192.0.2.1", NULL);
	round_trip(105, "10 192.0.2.1", NULL);                  /* L32 */
}

static void test_names(void **state)
{
	(void)state;
	round_trip(BW_TYPE_NS, "ns1", "ns1.example.com.");
	round_trip(BW_TYPE_NS, "ns1.example.org.", NULL);
	round_trip(BW_TYPE_CNAME, "@", "example.com.");
	round_trip(BW_TYPE_PTR, "host\\.dot.example.net.", NULL);
	round_trip(BW_TYPE_DNAME, "example.net.", NULL);
	round_trip(BW_TYPE_MX, "10 mail", "10 mail.example.com.");
	round_trip(BW_TYPE_MX, "0 .", NULL);
	round_trip(BW_TYPE_SRV, "0 5 5060 sip.example.com.", NULL);
	round_trip(BW_TYPE_SRV, "0 0 0 .", NULL);
	round_trip(17, "admin.example.com. txt.example.com.", NULL); /* RP */
	round_trip(18, "1 afs.example.com.", NULL);             /* AFSDB */
	round_trip(21, "10 relay.example.com.", NULL);          /* RT */
	round_trip(26, "10 a.example.com. b.example.com.", NULL); /* PX */
	round_trip(36, "10 kx.example.com.", NULL);             /* KX */
	round_trip(14, "rmail.example.com. email.example.com.", NULL);
	round_trip(7, "mb.example.com.", NULL);                 /* MB */
	round_trip(107, "10 l64.example.com.", NULL);           /* LP */
}

static void test_soa(void **state)
{
	(void)state;
	round_trip(BW_TYPE_SOA, "ns1 hostmaster 2024010101 1h 15m 1w 1d",
	           "ns1.example.com. hostmaster.example.com. 2024010101 "
	           "3600 900 604800 86400");
	round_trip(BW_TYPE_SOA, "a.example. b.example. 4294967295 "
	           "4294967295 0 1 2", NULL);
	bad(BW_TYPE_SOA, "ns1 hostmaster 1 2 3 4", BW_ESYNTAX,
	    "SOA: missing minimum");
	bad(BW_TYPE_SOA, "ns1 hostmaster 4294967296 2 3 4 5", BW_ESYNTAX,
	    "bad serial '4294967296'");
	bad(BW_TYPE_SOA, "ns1 hostmaster 1 2x 3 4 5", BW_ESYNTAX,
	    "bad refresh '2x'");
}

static void test_strings(void **state)
{
	char long_tok[300];

	(void)state;
	round_trip(BW_TYPE_TXT, "\"hello world\" \"second\"", NULL);
	round_trip(BW_TYPE_TXT, "unquoted", "\"unquoted\"");
	round_trip(BW_TYPE_TXT, "\"\"", NULL);
	round_trip(BW_TYPE_TXT, "\"a\\\"b\\\\c\\010\\255\"", NULL);
	round_trip(BW_TYPE_TXT, "\"\\065\\066C\"", "\"ABC\"");
	round_trip(BW_TYPE_TXT, "a\\ b", "\"a b\"");
	round_trip(99, "\"v=spf1 -all\"", NULL);                /* SPF */
	round_trip(BW_TYPE_HINFO, "\"PC\" \"Linux 6\"", NULL);
	round_trip(19, "\"311061700956\"", NULL);               /* X25 */
	round_trip(BW_TYPE_NAPTR, "100 10 \"U\" \"E2U+sip\" "
	           "\"!^.*$!sip:info@example.com!\" .", NULL);
	round_trip(BW_TYPE_NAPTR, "100 50 \"s\" \"http+I2L\" \"\" "
	           "_http._tcp.example.com.", NULL);
	round_trip(BW_TYPE_CAA, "0 issue \"letsencrypt.org\"", NULL);
	round_trip(BW_TYPE_CAA, "128 iodef \"mailto:sec@example.com\"", NULL);
	round_trip(BW_TYPE_CAA, "0 issue \"\"", NULL);
	round_trip(BW_TYPE_CAA, "0 issuewild ca.example.net",
	           "0 issuewild \"ca.example.net\"");
	round_trip(256, "10 1 \"https://www.example.com/path\"", NULL); /* URI */

	memset(long_tok, 'x', 256);
	long_tok[256] = '\0';
	bad(BW_TYPE_TXT, long_tok, BW_ESYNTAX,
	    "TXT: string longer than 255 octets");
	long_tok[255] = '\0';
	char quoted[320];
	snprintf(quoted, sizeof(quoted), "\"%s\"", long_tok);
	round_trip(BW_TYPE_TXT, quoted, NULL);
	bad(BW_TYPE_TXT, "", BW_ESYNTAX, "TXT: missing text");
	bad(BW_TYPE_TXT, "\"bad\\2\"", BW_ESYNTAX, "bad escape");
	bad(BW_TYPE_TXT, "\"bad\\256\"", BW_ESYNTAX, "bad escape");
	bad(BW_TYPE_CAA, "0 is-sue \"x\"", BW_ESYNTAX, "bad tag 'is-sue'");
	bad(BW_TYPE_CAA, "0 issue", BW_ESYNTAX, "CAA: missing value");
	bad(BW_TYPE_HINFO, "\"PC\"", BW_ESYNTAX, "HINFO: missing OS");
}

static void test_hex_b64(void **state)
{
	(void)state;
	round_trip(BW_TYPE_SSHFP, "1 1 123456789ABCDEF67890123456789ABCDEF67890",
	           NULL);
	round_trip(BW_TYPE_TLSA, "3 1 1 0123456789abcdef0123456789abcdef "
	           "0123456789abcdef0123456789abcdef",
	           "3 1 1 0123456789ABCDEF0123456789ABCDEF"
	           "0123456789ABCDEF0123456789ABCDEF");
	round_trip(53, "3 0 1 AABB", NULL);                     /* SMIMEA */
	round_trip(BW_TYPE_DS, "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118",
	           NULL);
	round_trip(BW_TYPE_DS, "60485 RSASHA1 1 2bb183af5f 22588179a53b0a98631"
	           "fad1a292118",
	           "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118");
	round_trip(BW_TYPE_CDS, "0 0 0 00", NULL);
	round_trip(BW_TYPE_DNSKEY, "257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29"
	           " euxhJhVVLOyQbSEW0O8gcCjF FVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh"
	           " /RStIoO8g0NfnfL2MTJRkxoX bfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/V"
	           " HL496M/QZxkjf5/Efucp2gaD X6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN"
	           " 9dlzEheX7ICJBBtuA6G3LQpz W5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgu"
	           " l0sGIcGOYl7OyQdXfZ57relS Qageu+ipAdTTJ25AsRTAoub8ONGcLmqr"
	           " AmRLKBP1dfwhYB4N7knNnulq QxA+Uk1ihz0=",
	           "257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8g"
	           "cCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoX"
	           "bfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS"
	           "6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpzW5hOA2hz"
	           "CTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTT"
	           "J25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=");
	round_trip(BW_TYPE_DNSKEY, "256 3 ECDSAP256SHA256 AB/C", "256 3 13 AB/C");
	round_trip(BW_TYPE_CDNSKEY, "0 3 0 AA==", NULL);
	round_trip(BW_TYPE_CDNSKEY, "0 3 0 AAA=", NULL);
	round_trip(61, "mQENBA==", NULL);                       /* OPENPGPKEY */
	round_trip(49, "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
	           NULL);                                       /* DHCID */
	round_trip(BW_TYPE_ZONEMD, "2018031500 1 1 FEBE3D4CE2EC2FFA4BA9 "
	           "9D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE4"
	           "99FAFA4F22C6BD647DE",
	           "2018031500 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E552"
	           "17057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE");

	bad(BW_TYPE_DS, "1 8 2 ABC", BW_ESYNTAX, "odd number of hex digits");
	bad(BW_TYPE_DS, "1 8 2 ABCG", BW_ESYNTAX, "bad hex 'ABCG'");
	bad(BW_TYPE_DS, "1 8 2", BW_ESYNTAX, "DS: missing digest");
	bad(BW_TYPE_DS, "1 FOO 2 AB", BW_ESYNTAX, "bad algorithm 'FOO'");
	bad(BW_TYPE_DNSKEY, "257 3 8 AwE", BW_ESYNTAX, "incomplete group");
	bad(BW_TYPE_DNSKEY, "257 3 8 Aw=E", BW_ESYNTAX, "bad base64");
	bad(BW_TYPE_DNSKEY, "257 3 8 A===", BW_ESYNTAX, "bad base64");
	bad(BW_TYPE_DNSKEY, "257 3 8 Aw!A", BW_ESYNTAX, "bad base64");
	bad(BW_TYPE_DNSKEY, "257 3 8", BW_ESYNTAX, "missing public key");
	bad(BW_TYPE_SSHFP, "1 256 AB", BW_ESYNTAX, "bad fingerprint type '256'");
}

static const char sig[] =
	"oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb"
	"+v6oB9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQb"
	"sLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=";

static void test_rrsig(void **state)
{
	char in[512], want[512];

	(void)state;
	snprintf(in, sizeof(in), "A 8 3 86400 20240201000000 20240101000000 "
	         "2642 example.com. %.40s %s", sig, sig + 40);
	snprintf(want, sizeof(want), "A 8 3 86400 20240201000000 "
	         "20240101000000 2642 example.com. %s", sig);
	round_trip(BW_TYPE_RRSIG, in, want);
	snprintf(in, sizeof(in), "NSEC3PARAM RSASHA256 2 1d 1706745600 "
	         "1704067200 2642 Example.COM. %s", sig);
	snprintf(want, sizeof(want), "NSEC3PARAM 8 2 86400 20240201000000 "
	         "20240101000000 2642 Example.COM. %s", sig);
	round_trip(BW_TYPE_RRSIG, in, want);
	snprintf(in, sizeof(in), "TYPE9999 13 0 0 21060207062815 "
	         "19700101000000 0 . %s", sig);
	round_trip(BW_TYPE_RRSIG, in, NULL);

	/* 2024-01-01 00:00:00 UTC is 1704067200 = 0x65920080. */
	uint8_t w[BW_RDATA_MAXLEN];
	char err[128];
	assert_true(parse(BW_TYPE_RRSIG, in, w, err, sizeof(err)) > 0);
	assert_true(parse(BW_TYPE_RRSIG, want, w, err, sizeof(err)) > 0);
	static const uint8_t head[] = { 0, 51, 8, 2, 0, 1, 0x51, 0x80,
	                                0x65, 0xba, 0xdf, 0x00,
	                                0x65, 0x92, 0x00, 0x80, 0x0a, 0x52 };
	assert_memory_equal(w, head, sizeof(head));

	bad(BW_TYPE_RRSIG, "A 8 3 86400 20241301000000 20240101000000 1 "
	    "example.com. AA==", BW_ESYNTAX, "bad expiration '20241301000000'");
	bad(BW_TYPE_RRSIG, "A 8 3 86400 20240230000000 20240101000000 1 "
	    "example.com. AA==", BW_ESYNTAX, "bad expiration");
	bad(BW_TYPE_RRSIG, "BOGUS 8 3 86400 1 2 1 example.com. AA==",
	    BW_ESYNTAX, "bad type covered 'BOGUS'");
	bad(BW_TYPE_RRSIG, "A 8 3 86400 1 2 1 example.com.", BW_ESYNTAX,
	    "RRSIG: missing signature");
}

static void test_nsec(void **state)
{
	uint8_t w[BW_RDATA_MAXLEN];
	char err[128];

	(void)state;
	round_trip(BW_TYPE_NSEC, "host.example.com. A NS SOA MX RRSIG NSEC "
	           "DNSKEY TYPE1234", NULL);
	round_trip(BW_TYPE_NSEC, "b.example.com. NSEC A", "b.example.com. A NSEC");
	round_trip(BW_TYPE_NSEC, "b.example.com.", NULL);
	round_trip(BW_TYPE_NSEC3, "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR "
	           "A RRSIG", NULL);
	round_trip(BW_TYPE_NSEC3, "1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr",
	           "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR");
	round_trip(BW_TYPE_NSEC3PARAM, "1 0 0 -", NULL);
	round_trip(BW_TYPE_NSEC3PARAM, "1 0 10 aabb", "1 0 10 AABB");
	round_trip(62, "66 3 A NS AAAA", NULL);                 /* CSYNC */

	/* Type bitmap, RFC 4034 §4.1.2. */
	int n = parse(BW_TYPE_NSEC, ". A MX RRSIG NSEC TYPE1234", w, err,
	              sizeof(err));
	static const uint8_t bm0[] = { 0, 0, 6, 0x40, 0x01, 0, 0, 0, 0x03,
	                               4, 27 };
	assert_int_equal(n, 1 + 8 + 2 + 27);
	assert_memory_equal(w, bm0, sizeof(bm0));
	assert_int_equal(w[1 + 8 + 2 + 26], 0x20);

	bad(BW_TYPE_NSEC, "next.example.com. A BOGUS", BW_ESYNTAX,
	    "bad type 'BOGUS'");
	bad(BW_TYPE_NSEC3, "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJW A",
	    BW_ESYNTAX, "bad base32hex next hashed owner");
	bad(BW_TYPE_NSEC3, "1 0 0 ABC 2T7B4G4V A", BW_ESYNTAX, "bad salt 'ABC'");
	bad(BW_TYPE_NSEC3, "1 0 0 -", BW_ESYNTAX,
	    "NSEC3: missing next hashed owner");
	bad(BW_TYPE_NSEC3PARAM, "1 0 65536 -", BW_ESYNTAX, "bad iterations");
}

static void test_svcb(void **state)
{
	uint8_t w[BW_RDATA_MAXLEN];
	char err[128];

	(void)state;
	round_trip(BW_TYPE_HTTPS, "0 alias.example.com.", NULL);
	round_trip(BW_TYPE_SVCB, "1 svc.example.com. alpn=\"h2,h3\" port=8443 "
	           "ipv4hint=192.0.2.1,192.0.2.2", NULL);
	round_trip(BW_TYPE_HTTPS, "1 . key65000=\"abc\" ech=\"AAAA\" "
	           "ipv6hint=2001:db8::1,2001:db8::2 port=443 no-default-alpn "
	           "alpn=h2 mandatory=port,alpn",
	           "1 . mandatory=alpn,port alpn=\"h2\" no-default-alpn port=443 "
	           "ech=\"AAAA\" ipv6hint=2001:db8::1,2001:db8::2 key65000=\"abc\"");
	round_trip(BW_TYPE_SVCB, "1 . alpn=\"a\\\\,b,c\\\\\\\\d\"", NULL);
	round_trip(BW_TYPE_SVCB, "1 . alpn= \"h2\"", "1 . alpn=\"h2\"");
	round_trip(BW_TYPE_SVCB, "1 . key3=53 key7=\"/q{?dns}\" key8 key9",
	           "1 . port=53 dohpath=\"/q{?dns}\" ohttp key9");

	/* Wire: params sorted by key, alpn ids length-prefixed. */
	int n = parse(BW_TYPE_SVCB, "16 . port=53 alpn=h2,h3", w, err,
	              sizeof(err));
	static const uint8_t want[] = { 0, 16, 0, 0, 1, 0, 6, 2, 'h', '2', 2,
	                                'h', '3', 0, 3, 0, 2, 0, 53 };
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(w, want, sizeof(want));
	/* An alpn id holding a comma. */
	n = parse(BW_TYPE_SVCB, "1 . alpn=\"a\\\\,b\"", w, err, sizeof(err));
	static const uint8_t comma[] = { 0, 1, 0, 0, 1, 0, 4, 3, 'a', ',', 'b' };
	assert_int_equal(n, sizeof(comma));
	assert_memory_equal(w, comma, sizeof(comma));

	bad(BW_TYPE_SVCB, "1 . port=1 port=2", BW_ESYNTAX, "duplicate SvcParam");
	bad(BW_TYPE_SVCB, "1 . bogus=1", BW_ESYNTAX,
	    "unknown SvcParam key 'bogus'");
	bad(BW_TYPE_SVCB, "1 . alpn=h2,,h3", BW_ESYNTAX, "empty alpn id");
	bad(BW_TYPE_SVCB, "1 . port=65536", BW_ESYNTAX, "bad port");
	bad(BW_TYPE_SVCB, "1 . ipv4hint=1.2.3", BW_ESYNTAX,
	    "bad IPv4 address '1.2.3'");
	bad(BW_TYPE_SVCB, "1 . no-default-alpn=x", BW_ESYNTAX, "takes no");
	bad(BW_TYPE_SVCB, "1 . port", BW_ESYNTAX, "needs a value");
	bad(BW_TYPE_SVCB, "1 . mandatory=mandatory", BW_ESYNTAX,
	    "bad mandatory key");
	bad(BW_TYPE_SVCB, "1 . key65535=x", BW_ESYNTAX, "unknown SvcParam");
	bad(BW_TYPE_HTTPS, "1", BW_ESYNTAX, "HTTPS: missing target name");
	bad(BW_TYPE_HTTPS, "1 . mandatory=port alpn=h2", BW_ESYNTAX,
	    "mandatory key3 is missing");
	check_bad_wire(BW_TYPE_SVCB, (const uint8_t *)"\0\1\0\0\0\0\2\0\3",
	               9);
}

static void test_generic(void **state)
{
	(void)state;
	round_trip(1234, "\\# 4 0A000001", NULL);
	round_trip(1234, "\\# 0", NULL);
	round_trip(1234, "\\# 3 0a 0000", "\\# 3 0A0000");
	round_trip(BW_TYPE_A, "\\# 4 C0000201", "192.0.2.1");
	round_trip(BW_TYPE_MX, "\\# 3 000A00", "10 .");
	round_trip(BW_TYPE_DS, "\\# 4 00010802", "\\# 4 00010802");
	round_trip(BW_TYPE_TXT, "\\# 3 02 6869", "\"hi\"");
	round_trip(10, "\\# 2 ABCD", NULL);                     /* NULL */

	bad(BW_TYPE_A, "\\# 3 C00002", BW_ESYNTAX, "not valid rdata");
	bad(BW_TYPE_MX, "\\# 4 000AC00C", BW_ESYNTAX, "not valid rdata");
	bad(1234, "\\# 4 0A0000", BW_ESYNTAX, "does not match");
	bad(1234, "\\# 2 0A0000", BW_ESYNTAX, "does not match");
	bad(1234, "\\# x 00", BW_ESYNTAX, "bad or missing length");
	bad(1234, "\\#", BW_ESYNTAX, "bad or missing length");
	bad(1234, "0A000001", BW_ETYPE, "use \\# LEN HEX");
	bad(BW_TYPE_OPT, "\\# 0", BW_ETYPE, "OPT: type cannot appear");
	bad(BW_TYPE_ANY, "\\# 0", BW_ETYPE, "cannot appear");
}

static void test_bad_basic(void **state)
{
	char label[100];

	(void)state;
	bad(BW_TYPE_A, "1.2.3", BW_ESYNTAX, "A: bad IPv4 address '1.2.3'");
	bad(BW_TYPE_A, "192.0.2.1 foo", BW_ESYNTAX,
	    "extra data after rdata: 'foo'");
	bad(BW_TYPE_A, "", BW_ESYNTAX, "A: missing address");
	bad(BW_TYPE_A, "256.0.0.1", BW_ESYNTAX, "bad IPv4 address");
	bad(BW_TYPE_AAAA, "2001:db8:::1", BW_ESYNTAX, "bad IPv6 address");
	bad(BW_TYPE_AAAA, "192.0.2.1", BW_ESYNTAX, "bad IPv6 address");
	bad(BW_TYPE_MX, "10", BW_ESYNTAX, "MX: missing exchange name");
	bad(BW_TYPE_MX, "70000 mail.", BW_ESYNTAX, "bad preference '70000'");
	bad(BW_TYPE_MX, "-1 mail.", BW_ESYNTAX, "bad preference '-1'");
	bad(BW_TYPE_MX, "10 a..b.", BW_ESYNTAX, "bad exchange name 'a..b.'");
	bad(BW_TYPE_SRV, "1 2 3", BW_ESYNTAX, "SRV: missing target name");
	memset(label, 'a', 64);
	strcpy(label + 64, ".com.");
	bad(BW_TYPE_NS, label, BW_ELABEL, "label longer than 63");

	/* Relative names need an origin. */
	struct bw_token t = { "host", 4, false };
	char err[128];
	assert_int_equal(bw_rdata_from_text(BW_TYPE_NS, &t, 1, NULL, wire1,
	                                    sizeof(wire1), err, sizeof(err)),
	                 BW_ESYNTAX);
	assert_non_null(strstr(err, "origin"));
	/* Output buffer too small. */
	t = (struct bw_token){ "192.0.2.1", 9, false };
	assert_int_equal(bw_rdata_from_text(BW_TYPE_A, &t, 1, NULL, wire1, 3,
	                                    NULL, 0), BW_ENOSPC);
}

static void test_wire_mx(void **state)
{
	uint8_t w[64];
	char err[64];

	(void)state;
	int n = parse(BW_TYPE_MX, "10 Mail", w, err, sizeof(err));
	static const uint8_t want[] = "\x00\x0a\x04Mail\x07" "example\x03" "com";
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(w, want, sizeof(want));

	struct bw_rdata_name names[BW_RDATA_MAXNAMES];
	assert_int_equal(bw_rdata_names(BW_TYPE_MX, w, (size_t)n, names), 1);
	assert_int_equal(names[0].off, 2);
	assert_int_equal(names[0].len, 18);
	assert_true(names[0].compress);
	assert_true(names[0].canon_lower);
	bw_rdata_canonicalize(BW_TYPE_MX, w, (size_t)n);
	assert_memory_equal(w + 3, "mail", 4);
}

/* Which names are compressed and lowercased, by type. */
static void expect_names(uint16_t type, const char *txt, int count,
                         bool compress, bool lower)
{
	uint8_t w[BW_RDATA_MAXLEN];
	struct bw_rdata_name names[BW_RDATA_MAXNAMES];
	char err[128];
	int n = parse(type, txt, w, err, sizeof(err));

	assert_true(n > 0);
	assert_int_equal(bw_rdata_names(type, w, (size_t)n, names), count);
	for (int i = 0; i < count; i++) {
		assert_int_equal(names[i].compress, compress);
		assert_int_equal(names[i].canon_lower, lower);
		assert_true(bw_name_check(w + names[i].off, names[i].len) ==
		            names[i].len);
	}
}

static void test_rdata_names(void **state)
{
	(void)state;
	expect_names(BW_TYPE_NS, "ns.", 1, true, true);
	expect_names(BW_TYPE_CNAME, "x.", 1, true, true);
	expect_names(BW_TYPE_PTR, "x.", 1, true, true);
	expect_names(BW_TYPE_SOA, "a. b. 1 2 3 4 5", 2, true, true);
	expect_names(BW_TYPE_MX, "1 x.", 1, true, true);
	expect_names(BW_TYPE_SRV, "1 2 3 x.", 1, false, true);
	expect_names(BW_TYPE_NAPTR, "1 2 \"\" \"\" \"\" x.", 1, false, true);
	expect_names(BW_TYPE_DNAME, "x.", 1, false, true);
	expect_names(BW_TYPE_RRSIG, "A 8 1 1 1 1 1 x. AA==", 1, false, true);
	expect_names(BW_TYPE_NSEC, "x. A", 1, false, false);
	expect_names(BW_TYPE_SVCB, "1 x.", 1, false, false);
	expect_names(BW_TYPE_HTTPS, "1 x.", 1, false, false);
	expect_names(17, "x. y.", 2, false, true);              /* RP */
	expect_names(26, "1 x. y.", 2, false, true);            /* PX */
	expect_names(BW_TYPE_A, "192.0.2.1", 0, false, false);
	expect_names(BW_TYPE_TXT, "x", 0, false, false);
}

static void test_canonical(void **state)
{
	uint8_t w[BW_RDATA_MAXLEN];
	char err[128];

	(void)state;
	/* NSEC next name keeps its case (RFC 6840 §5.1). */
	int n = parse(BW_TYPE_NSEC, "Next.Example. A", w, err, sizeof(err));
	bw_rdata_canonicalize(BW_TYPE_NSEC, w, (size_t)n);
	assert_memory_equal(w, "\x04Next\x07" "Example", 13);
	/* RRSIG signer is lowercased. */
	n = parse(BW_TYPE_RRSIG, "A 8 1 1 1 1 1 EXAMPLE. AA==", w, err,
	          sizeof(err));
	bw_rdata_canonicalize(BW_TYPE_RRSIG, w, (size_t)n);
	assert_memory_equal(w + 18, "\x07" "example", 8);
	/* SOA: both names; the rest untouched. */
	n = parse(BW_TYPE_SOA, "NS.A. HM.A. 1 2 3 4 5", w, err, sizeof(err));
	bw_rdata_canonicalize(BW_TYPE_SOA, w, (size_t)n);
	assert_memory_equal(w, "\x02ns\x01" "a\x00\x02hm\x01" "a", 12);
	/* TXT is not touched. */
	n = parse(BW_TYPE_TXT, "ABC", w, err, sizeof(err));
	bw_rdata_canonicalize(BW_TYPE_TXT, w, (size_t)n);
	assert_memory_equal(w, "\x03" "ABC", 4);
}

static void test_cmp(void **state)
{
	static const uint8_t a[] = { 1, 2, 3 }, b[] = { 1, 2, 4 };

	(void)state;
	assert_true(bw_rdata_cmp(a, 3, b, 3) < 0);
	assert_true(bw_rdata_cmp(b, 3, a, 3) > 0);
	assert_true(bw_rdata_cmp(a, 2, a, 3) < 0);
	assert_true(bw_rdata_cmp(a, 3, a, 2) > 0);
	assert_int_equal(bw_rdata_cmp(a, 3, a, 3), 0);
	assert_int_equal(bw_rdata_cmp(a, 0, b, 0), 0);
}

static void check_bad_wire(uint16_t type, const uint8_t *w, size_t n)
{
	struct bw_rdata_name names[BW_RDATA_MAXNAMES];

	assert_int_equal(bw_rdata_check(type, w, n), BW_EMALF);
	assert_int_equal(bw_rdata_to_text(type, w, n, text, sizeof(text)),
	                 BW_EMALF);
	assert_int_equal(bw_rdata_names(type, w, n, names), BW_EMALF);
}

static void test_check_wire(void **state)
{
	(void)state;
	check_bad_wire(BW_TYPE_A, (const uint8_t *)"\1\2\3", 3);
	check_bad_wire(BW_TYPE_A, (const uint8_t *)"\1\2\3\4\5", 5);
	check_bad_wire(BW_TYPE_NS, (const uint8_t *)"\3ab", 3);
	check_bad_wire(BW_TYPE_NS, (const uint8_t *)"\xc0\x0c", 2);
	check_bad_wire(BW_TYPE_MX, (const uint8_t *)"\0\1\0\0", 4);
	check_bad_wire(BW_TYPE_TXT, (const uint8_t *)"\5ab", 3);
	check_bad_wire(BW_TYPE_TXT, (const uint8_t *)"", 0);
	check_bad_wire(BW_TYPE_NSEC, (const uint8_t *)"\0\0\0", 3);
	check_bad_wire(BW_TYPE_NSEC, (const uint8_t *)"\0\0\1\0", 4);
	check_bad_wire(BW_TYPE_NSEC, (const uint8_t *)"\0\1\1\1\0\1\1", 7);
	check_bad_wire(BW_TYPE_NSEC, (const uint8_t *)"\0\0\41\1", 4);
	check_bad_wire(BW_TYPE_SVCB, (const uint8_t *)"\0\1\0\0\3\0\1\1", 8);
	check_bad_wire(BW_TYPE_SVCB, (const uint8_t *)
	               "\0\1\0\0\3\0\2\0\1\0\1\0\0", 13);
	check_bad_wire(BW_TYPE_SVCB, (const uint8_t *)"\0\1\0\0\1\0\1\0", 8);
	check_bad_wire(BW_TYPE_CAA, (const uint8_t *)"\0\2a-x", 5);
	check_bad_wire(BW_TYPE_NSEC3, (const uint8_t *)"\1\0\0\0\0\0", 6);
	/* Unknown types accept any octets. */
	assert_int_equal(bw_rdata_check(1234, (const uint8_t *)"\xff", 1), 0);
	/* Output buffer too small. */
	assert_int_equal(bw_rdata_to_text(BW_TYPE_A, (const uint8_t *)
	                                  "\1\2\3\4", 4, text, 7), BW_ENOSPC);
	assert_int_equal(bw_rdata_to_text(BW_TYPE_A, (const uint8_t *)
	                                  "\1\2\3\4", 4, text, 8), 7);
}

static void test_types(void **state)
{
	char buf[32];
	uint16_t v;

	(void)state;
	static const struct { uint16_t type; const char *name; } known[] = {
		{ 1, "A" }, { 6, "SOA" }, { 28, "AAAA" }, { 46, "RRSIG" },
		{ 50, "NSEC3" }, { 51, "NSEC3PARAM" }, { 63, "ZONEMD" },
		{ 65, "HTTPS" }, { 257, "CAA" }, { 256, "URI" }, { 99, "SPF" },
		{ 108, "EUI48" }, { 250, "TSIG" },
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		assert_int_equal(bw_type_to_text(known[i].type, buf,
		                                 sizeof(buf)),
		                 strlen(known[i].name));
		assert_string_equal(buf, known[i].name);
		assert_int_equal(bw_type_from_text(known[i].name,
		                                   strlen(known[i].name), &v), 0);
		assert_int_equal(v, known[i].type);
	}
	assert_int_equal(bw_type_from_text("nsec3param", 10, &v), 0);
	assert_int_equal(v, 51);
	assert_int_equal(bw_type_to_text(1234, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "TYPE1234");
	assert_int_equal(bw_type_from_text("type1234", 8, &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(bw_type_from_text("TYPE65535", 9, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(bw_type_to_text(1234, buf, 8), BW_ENOSPC);
	static const char *const bad_types[] = {
		"", "TYPE", "TYPE65536", "TYPE-1", "TYPEx", "AA", "A ", "NSEC4",
		"TYPE123456",
	};
	for (size_t i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++)
		assert_int_equal(bw_type_from_text(bad_types[i],
		                                   strlen(bad_types[i]), &v),
		                 BW_ETYPE);
	/* Only len counts. */
	assert_int_equal(bw_type_from_text("MXX", 2, &v), 0);
	assert_int_equal(v, BW_TYPE_MX);
}

static void test_classes(void **state)
{
	char buf[32];
	uint16_t v;

	(void)state;
	assert_int_equal(bw_class_from_text("in", 2, &v), 0);
	assert_int_equal(v, BW_CLASS_IN);
	assert_int_equal(bw_class_from_text("CH", 2, &v), 0);
	assert_int_equal(v, BW_CLASS_CH);
	assert_int_equal(bw_class_from_text("CHAOS", 5, &v), 0);
	assert_int_equal(v, BW_CLASS_CH);
	assert_int_equal(bw_class_from_text("HS", 2, &v), 0);
	assert_int_equal(v, BW_CLASS_HS);
	assert_int_equal(bw_class_from_text("CLASS1", 6, &v), 0);
	assert_int_equal(v, BW_CLASS_IN);
	assert_int_equal(bw_class_from_text("CLASS65280", 10, &v), 0);
	assert_int_equal(v, 65280);
	assert_int_equal(bw_class_from_text("IX", 2, &v), BW_ECLASS);
	assert_int_equal(bw_class_from_text("CLASS70000", 10, &v), BW_ECLASS);
	assert_int_equal(bw_class_from_text("", 0, &v), BW_ECLASS);
	assert_int_equal(bw_class_to_text(BW_CLASS_IN, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "IN");
	assert_int_equal(bw_class_to_text(BW_CLASS_ANY, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "ANY");
	assert_int_equal(bw_class_to_text(42, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "CLASS42");
}

static void test_ttl(void **state)
{
	static const struct { const char *txt; uint32_t ttl; } good[] = {
		{ "0", 0 }, { "3600", 3600 }, { "2147483647", 2147483647 },
		{ "1h", 3600 }, { "1H30m", 5400 }, { "2w", 1209600 },
		{ "1D", 86400 }, { "1w2d3h4m5s", 788645 }, { "10s", 10 },
		{ "1h30", 3630 }, { "007", 7 },
	};
	static const char *const bad_ttls[] = {
		"", "h", "1x", "-1", "2147483648", "4294967296", "99999999999",
		"1hh", "1 h", "3551w", "3550w1w", "1.5h", "h1",
	};
	uint32_t ttl;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ttl = 1;
		assert_int_equal(bw_ttl_from_text(good[i].txt,
		                                  strlen(good[i].txt), &ttl), 0);
		assert_int_equal(ttl, good[i].ttl);
	}
	for (size_t i = 0; i < sizeof(bad_ttls) / sizeof(bad_ttls[0]); i++) {
		if (bw_ttl_from_text(bad_ttls[i], strlen(bad_ttls[i]),
		                     &ttl) != BW_ETTL)
			fail_msg("TTL '%s' accepted", bad_ttls[i]);
	}
}

struct emitted {
	int calls;
	enum bw_diag_level lvl;
	unsigned line;
	char msg[128];
};

static void emit(void *ctx, enum bw_diag_level lvl, const char *file,
                 unsigned line, const char *msg)
{
	struct emitted *e = ctx;

	(void)file;
	e->calls++;
	e->lvl = lvl;
	e->line = line;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
}

static void test_diag(void **state)
{
	struct emitted e = { 0 };
	struct bw_diag d = { .emit = emit, .ctx = &e };

	(void)state;
	bw_diag_report(&d, BW_DIAG_WARN, "z.zone", 3, "odd %s", "thing");
	assert_int_equal(d.warnings, 1);
	assert_int_equal(d.errors, 0);
	assert_int_equal(e.lvl, BW_DIAG_WARN);
	assert_string_equal(e.msg, "odd thing");
	bw_diag_report(&d, BW_DIAG_ERROR, "z.zone", 7, "bad %d", 42);
	bw_diag_report(&d, BW_DIAG_ERROR, "y.zone", 9, "worse");
	bw_diag_report(&d, BW_DIAG_NOTE, NULL, 0, "note");
	assert_int_equal(d.errors, 2);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(e.calls, 4);
	assert_string_equal(d.first_file, "z.zone");
	assert_int_equal(d.first_line, 7);
	assert_string_equal(d.first_msg, "bad 42");

	struct bw_diag q = { .quiet = 1 };
	bw_diag_report(&q, BW_DIAG_ERROR, NULL, 0, "quiet");
	assert_int_equal(q.errors, 1);
	assert_string_equal(q.first_file, "");
	assert_string_equal(q.first_msg, "quiet");
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(bw_strerror(BW_OK), "success");
	assert_string_equal(bw_strerror(BW_ENOSPC), "not enough space");
	assert_string_equal(bw_strerror(BW_ELABEL),
	                    "label longer than 63 octets");
	assert_string_equal(bw_strerror(-123456), "unknown error");
	for (int e = BW_EDEPTH; e <= BW_EMALF; e++)
		assert_string_not_equal(bw_strerror(e), "unknown error");
}

static const uint16_t all_types[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 21, 26,
	28, 33, 35, 36, 39, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 59, 60,
	61, 62, 63, 64, 65, 99, 105, 107, 256, 257, 1234,
};

/* Random wire rdata: whatever is valid must print and parse back to the
 * same octets. */
static void test_random_wire(void **state)
{
	uint8_t w[64];
	char err[256];
	int valid = 0;

	(void)state;
	srand(11);
	for (int round = 0; round < 400000; round++) {
		uint16_t type = all_types[(size_t)rand() % (sizeof(all_types) /
		                                            sizeof(all_types[0]))];
		size_t len = (size_t)rand() % sizeof(w);
		for (size_t i = 0; i < len; i++)
			w[i] = (uint8_t)(rand() % 3 ? rand() % 6 : rand());
		if (bw_rdata_check(type, w, len) != 0)
			continue;
		valid++;
		int n = bw_rdata_to_text(type, w, len, text, sizeof(text));
		assert_true(n > 0);
		int len2 = parse(type, text, wire2, err, sizeof(err));
		if (len2 < 0)
			fail_msg("type %u: '%s' rejected: %s", type, text, err);
		assert_int_equal(len2, len);
		assert_memory_equal(w, wire2, len);
	}
	assert_true(valid > 1000);
}

/* Random text never crashes and never reports success with garbage. */
static void test_random_text(void **state)
{
	static const char alphabet[] = "0123456789abcdefAZ.\\#=,\"-: ";
	char in[48], err[64];

	(void)state;
	srand(13);
	for (int round = 0; round < 100000; round++) {
		uint16_t type = all_types[(size_t)rand() % (sizeof(all_types) /
		                                            sizeof(all_types[0]))];
		size_t len = (size_t)rand() % (sizeof(in) - 1);
		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[(size_t)rand() % (sizeof(alphabet) - 1)];
		in[len] = '\0';
		int n = parse(type, in, wire1, err, sizeof(err));
		if (n < 0) {
			assert_true(err[0] != '\0');
			continue;
		}
		assert_int_equal(bw_rdata_check(type, wire1, (size_t)n), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_soa),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_hex_b64),
		cmocka_unit_test(test_rrsig),
		cmocka_unit_test(test_nsec),
		cmocka_unit_test(test_svcb),
		cmocka_unit_test(test_generic),
		cmocka_unit_test(test_bad_basic),
		cmocka_unit_test(test_wire_mx),
		cmocka_unit_test(test_rdata_names),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_check_wire),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_diag),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_random_wire),
		cmocka_unit_test(test_random_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
