/*  bulwark — RR type and class mnemonics, TTLs.
 */
#include "bulwark/wire.h"

#include <stdio.h>
#include <strings.h>

struct mnemonic {
	uint16_t value;
	const char *name;
};

static const struct mnemonic rr_types[] = {
	{ 1, "A" }, { 2, "NS" }, { 3, "MD" }, { 4, "MF" }, { 5, "CNAME" },
	{ 6, "SOA" }, { 7, "MB" }, { 8, "MG" }, { 9, "MR" }, { 10, "NULL" },
	{ 11, "WKS" }, { 12, "PTR" }, { 13, "HINFO" }, { 14, "MINFO" },
	{ 15, "MX" }, { 16, "TXT" }, { 17, "RP" }, { 18, "AFSDB" },
	{ 19, "X25" }, { 20, "ISDN" }, { 21, "RT" }, { 22, "NSAP" },
	{ 23, "NSAP-PTR" }, { 24, "SIG" }, { 25, "KEY" }, { 26, "PX" },
	{ 27, "GPOS" }, { 28, "AAAA" }, { 29, "LOC" }, { 30, "NXT" },
	{ 33, "SRV" }, { 35, "NAPTR" }, { 36, "KX" }, { 37, "CERT" },
	{ 38, "A6" }, { 39, "DNAME" }, { 41, "OPT" }, { 42, "APL" },
	{ 43, "DS" }, { 44, "SSHFP" }, { 45, "IPSECKEY" }, { 46, "RRSIG" },
	{ 47, "NSEC" }, { 48, "DNSKEY" }, { 49, "DHCID" }, { 50, "NSEC3" },
	{ 51, "NSEC3PARAM" }, { 52, "TLSA" }, { 53, "SMIMEA" }, { 55, "HIP" },
	{ 59, "CDS" }, { 60, "CDNSKEY" }, { 61, "OPENPGPKEY" },
	{ 62, "CSYNC" }, { 63, "ZONEMD" }, { 64, "SVCB" }, { 65, "HTTPS" },
	{ 99, "SPF" }, { 104, "NID" }, { 105, "L32" }, { 106, "L64" },
	{ 107, "LP" }, { 108, "EUI48" }, { 109, "EUI64" }, { 249, "TKEY" },
	{ 250, "TSIG" }, { 251, "IXFR" }, { 252, "AXFR" }, { 253, "MAILB" },
	{ 254, "MAILA" }, { 255, "ANY" }, { 256, "URI" }, { 257, "CAA" },
	{ 32769, "DLV" },
};

static const struct mnemonic rr_classes[] = {
	{ 1, "IN" }, { 3, "CH" }, { 4, "HS" }, { 254, "NONE" }, { 255, "ANY" },
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *mnemonic_name(const struct mnemonic *tab, size_t n,
                                 uint16_t value)
{
	for (size_t i = 0; i < n; i++) {
		if (tab[i].value == value)
			return tab[i].name;
	}
	return NULL;
}

static int mnemonic_value(const struct mnemonic *tab, size_t n,
                          const char *txt, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (strncasecmp(tab[i].name, txt, len) == 0 &&
		    tab[i].name[len] == '\0')
			return tab[i].value;
	}
	return -1;
}

/* Parses "<PREFIX><n>" with n in 0..65535. */
static int prefixed_number(const char *prefix, const char *txt, size_t len)
{
	size_t plen = strlen(prefix);
	uint32_t v = 0;

	if (len <= plen || len > plen + 5 || strncasecmp(txt, prefix, plen) != 0)
		return -1;
	for (size_t i = plen; i < len; i++) {
		if (txt[i] < '0' || txt[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(txt[i] - '0');
	}
	return v > 65535 ? -1 : (int)v;
}

static int mnemonic_to_text(const char *name, const char *prefix,
                            uint16_t value, char *out, size_t cap)
{
	int n = name ? snprintf(out, cap, "%s", name)
	             : snprintf(out, cap, "%s%u", prefix, value);

	return (n < 0 || (size_t)n >= cap) ? BW_ENOSPC : n;
}

int bw_type_to_text(uint16_t type, char *out, size_t cap)
{
	return mnemonic_to_text(mnemonic_name(rr_types, N_ELEMS(rr_types), type),
	                        "TYPE", type, out, cap);
}

int bw_class_to_text(uint16_t cls, char *out, size_t cap)
{
	return mnemonic_to_text(mnemonic_name(rr_classes, N_ELEMS(rr_classes),
	                                      cls), "CLASS", cls, out, cap);
}

int bw_type_from_text(const char *txt, size_t len, uint16_t *type)
{
	int v = mnemonic_value(rr_types, N_ELEMS(rr_types), txt, len);

	if (v < 0)
		v = prefixed_number("TYPE", txt, len);
	if (v < 0)
		return BW_ETYPE;
	*type = (uint16_t)v;
	return 0;
}

int bw_class_from_text(const char *txt, size_t len, uint16_t *cls)
{
	int v = mnemonic_value(rr_classes, N_ELEMS(rr_classes), txt, len);

	if (v < 0 && len == 5 && strncasecmp(txt, "CHAOS", 5) == 0)
		v = BW_CLASS_CH;
	if (v < 0)
		v = prefixed_number("CLASS", txt, len);
	if (v < 0)
		return BW_ECLASS;
	*cls = (uint16_t)v;
	return 0;
}

static uint32_t ttl_unit(char c)
{
	switch (c) {
	case 's': case 'S':
		return 1;
	case 'm': case 'M':
		return 60;
	case 'h': case 'H':
		return 3600;
	case 'd': case 'D':
		return 86400;
	case 'w': case 'W':
		return 604800;
	default:
		return 0;
	}
}

#define TTL_MAX 0x7fffffffu

int bw_ttl_from_text(const char *txt, size_t len, uint32_t *ttl)
{
	uint64_t total = 0, num = 0;
	bool digits = false;

	if (len == 0)
		return BW_ETTL;
	for (size_t i = 0; i < len; i++) {
		char c = txt[i];
		if (c >= '0' && c <= '9') {
			num = num * 10 + (uint64_t)(c - '0');
			digits = true;
			if (num > TTL_MAX)
				return BW_ETTL;
			continue;
		}
		uint32_t unit = ttl_unit(c);
		if (unit == 0 || !digits)
			return BW_ETTL;
		total += num * unit;
		if (total > TTL_MAX)
			return BW_ETTL;
		num = 0;
		digits = false;
	}
	total += num;
	if (total > TTL_MAX)
		return BW_ETTL;
	*ttl = (uint32_t)total;
	return 0;
}
