/*  bulwark — atomically replaced JSON state files (see statefile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulwark/err.h"
#include "ctl_proto.h"
#include "log.h"
#include "statefile.h"

/* Largest state file read. */
#define STATE_MAX (BW_CTL_REQUEST_MAX * 256u)

static char *join(const char *dir, const char *name, const char *suffix)
{
	size_t len = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(len);

	if (p != NULL)
		snprintf(p, len, "%s/%s%s", dir, name, suffix);
	return p;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Writes and syncs the temporary file. */
static int write_tmp(const char *tmp, const char *text, size_t len, mode_t mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int rc;

	if (fd < 0)
		return -errno;
	if ((rc = write_all(fd, text, len)) == 0 && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && rc == 0)  /* Closed either way: never twice. */
		rc = -errno;
	return rc;
}

int bw_state_write(const char *dir, const char *name, const struct bw_json *doc,
                   mode_t mode)
{
	size_t len = 0;
	char *text = bw_json_dump(doc, BW_JSON_PRETTY, &len);
	char *tmp = join(dir, name, ".tmp"), *path = join(dir, name, "");
	int rc = BW_ENOMEM;

	if (text != NULL && tmp != NULL && path != NULL) {
		text[len++] = '\n';  /* Replaces the NUL; written by length. */
		rc = write_tmp(tmp, text, len, mode);
		if (rc == 0 && rename(tmp, path) != 0)
			rc = -errno;
		if (rc != 0)
			(void)unlink(tmp);
		else
			rc = fsync_dir(dir);
	}
	free(text);
	free(tmp);
	free(path);
	return rc;
}

struct bw_json *bw_state_read(const char *dir, const char *name)
{
	char *path = join(dir, name, ""), *bad = join(dir, name, ".bad");
	struct bw_json *doc = NULL;
	char err[256] = "", *text = NULL;
	size_t len = 0;
	FILE *f = path != NULL ? fopen(path, "re") : NULL;

	if (f != NULL) {
		text = malloc(STATE_MAX);
		len = text != NULL ? fread(text, 1, STATE_MAX, f) : 0;
		fclose(f);
		if (text != NULL && bw_json_parse(text, len, &doc, err, sizeof(err)) != 0) {
			bw_log(LOG_ERR, "%s: %s; moved to %s and ignored", path, err, bad);
			(void)rename(path, bad);
		}
	} else if (path != NULL && errno != ENOENT) {
		bw_log(LOG_ERR, "%s: %s; ignored", path, strerror(errno));
	}
	free(text);
	free(path);
	free(bad);
	return doc;
}
