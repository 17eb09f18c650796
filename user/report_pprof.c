// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report_pprof.c - the report as a pprof heap profile: protobuf-c for the encoding, zlib for the gzip */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "proto/profile.pb-c.h"
#include "report_folded.h"
#include "report_pprof.h"

/*
 * An interning table: distinct keys in insertion order, found again through an
 * open-addressing hash of their index. Strings, mappings, functions and
 * locations are all interned by a string key, so one structure serves all four.
 */
struct intern {
	char **keys;
	size_t n, cap;
	uint32_t *slots;	/* index + 1; 0 = empty */
	size_t nslots;		/* power of two */
};

static uint64_t hash_key(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void intern__free(struct intern *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static int intern__grow(struct intern *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 64, i;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->n; i++) {
		size_t h = hash_key(t->keys[i], strlen(t->keys[i])) & (nslots - 1);

		while (slots[h])
			h = (h + 1) & (nslots - 1);
		slots[h] = i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

/*
 * Index of key (len bytes, no NUL inside) in t, adding a copy when new; *added
 * says which. Returns the index, or -ENOMEM.
 */
static int64_t intern__get(struct intern *t, const char *key, size_t len, bool *added)
{
	size_t h;
	char *copy;

	if (added)
		*added = false;
	if ((t->n + 1) * 2 > t->nslots && intern__grow(t))
		return -ENOMEM;
	for (h = hash_key(key, len) & (t->nslots - 1); t->slots[h]; h = (h + 1) & (t->nslots - 1)) {
		const char *k = t->keys[t->slots[h] - 1];

		if (!strncmp(k, key, len) && k[len] == '\0')
			return t->slots[h] - 1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **keys = realloc(t->keys, cap * sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		t->keys = keys;
		t->cap = cap;
	}
	copy = strndup(key, len);
	if (!copy)
		return -ENOMEM;
	t->keys[t->n] = copy;
	t->slots[h] = t->n + 1;
	if (added)
		*added = true;
	return t->n++;
}

/* a growable array of fixed-size records */
struct vec {
	void *v;
	size_t n, cap, size;
};

/* a zeroed new record at the end, or NULL */
static void *vec__push(struct vec *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		void *v = realloc(a->v, cap * a->size);

		if (!v)
			return NULL;
		a->v = v;
		a->cap = cap;
	}
	memset((char *)a->v + a->n * a->size, 0, a->size);
	return (char *)a->v + a->n++ * a->size;
}

struct pp {
	struct intern strs;	/* string_table */
	struct intern map_keys, func_keys, loc_keys;
	struct vec maps;	/* Perftools__Profiles__Mapping */
	struct vec funcs;	/* Perftools__Profiles__Function */
	struct vec locs;	/* Perftools__Profiles__Location */
	struct vec lines;	/* Perftools__Profiles__Line, one per location (no inline info) */
	struct vec samples;	/* Perftools__Profiles__Sample */
	struct vec labels;	/* Perftools__Profiles__Label, two per sample */
	struct vec loc_ids;	/* uint64_t: every sample's location ids, one after the other */
	struct vec values;	/* int64_t: every sample's values */
	int err;
};

/* string_table index of s made valid UTF-8 (NULL: ""), with a sticky error */
static int64_t pp_str(struct pp *p, const char *s)
{
	char *clean;
	int64_t i;

	if (p->err)
		return 0;
	if (!s || !*s)
		return 0;
	clean = report__utf8_dup(s);
	if (!clean) {
		p->err = -ENOMEM;
		return 0;
	}
	i = intern__get(&p->strs, clean, strlen(clean), NULL);
	free(clean);
	if (i < 0) {
		p->err = (int)i;
		return 0;
	}
	return i;
}

static bool is_python(const struct rpt_frame *fr)
{
	return fr->lang && !strcmp(fr->lang, "python");
}

/* the id of fr's mapping in process pid (0: none), widened to cover fr->addr */
static uint64_t pp_mapping(struct pp *p, int pid, const struct rpt_frame *fr)
{
	Perftools__Profiles__Mapping *m;
	char key[4096];
	int64_t i;
	bool added;
	int n;

	if (p->err || is_python(fr) || !fr->module || !*fr->module)
		return 0;
	/* a process's own address space: the same library maps elsewhere in another pid */
	n = snprintf(key, sizeof(key), "%d%c%s%c%s", pid, 1, fr->module, 1,
		     fr->build_id ? fr->build_id : "");
	if (n < 0 || (size_t)n >= sizeof(key))
		n = sizeof(key) - 1;
	i = intern__get(&p->map_keys, key, strlen(key), &added);
	if (i < 0) {
		p->err = (int)i;
		return 0;
	}
	if (added) {
		m = vec__push(&p->maps);
		if (!m) {
			p->err = -ENOMEM;
			return 0;
		}
		perftools__profiles__mapping__init(m);
		m->id = i + 1;
		m->memory_start = fr->addr;
		m->memory_limit = fr->addr + 1;
		m->filename = pp_str(p, fr->module);
		m->build_id = pp_str(p, fr->build_id);
	}
	m = (Perftools__Profiles__Mapping *)p->maps.v + i;
	if (fr->addr < m->memory_start)
		m->memory_start = fr->addr;
	if (fr->addr >= m->memory_limit)
		m->memory_limit = fr->addr + 1;
	if (fr->func)
		m->has_functions = true;
	if (fr->file)
		m->has_filenames = true;
	if (fr->file && fr->line > 0)
		m->has_line_numbers = true;
	return m->id;
}

/* the id of fr's function (0: unknown) */
static uint64_t pp_function(struct pp *p, const struct rpt_frame *fr)
{
	Perftools__Profiles__Function *fn;
	char key[4096];
	int64_t i;
	bool added;

	if (p->err || !fr->func || !*fr->func)
		return 0;
	snprintf(key, sizeof(key), "%s%c%s%c%s", fr->func, 1, fr->file ? fr->file : "", 1,
		 is_python(fr) ? "py" : "c");
	i = intern__get(&p->func_keys, key, strlen(key), &added);
	if (i < 0) {
		p->err = (int)i;
		return 0;
	}
	if (added) {
		fn = vec__push(&p->funcs);
		if (!fn) {
			p->err = -ENOMEM;
			return 0;
		}
		perftools__profiles__function__init(fn);
		fn->id = i + 1;
		fn->name = pp_str(p, fr->func);
		fn->system_name = fn->name;
		fn->filename = pp_str(p, fr->file);
	}
	return i + 1;
}

/* the id of fr's location in process pid */
static uint64_t pp_location(struct pp *p, int pid, const struct rpt_frame *fr)
{
	Perftools__Profiles__Location *loc;
	Perftools__Profiles__Line *ln;
	uint64_t map_id = pp_mapping(p, pid, fr), fn_id = pp_function(p, fr);
	int line = fr->file && fr->line > 0 ? fr->line : 0;
	char key[128];
	int64_t i;
	bool added;

	if (p->err)
		return 0;
	/*
	 * A location is an address in a mapping, plus what it resolved to: two
	 * Python frames share no address space, so their function tells them apart.
	 */
	snprintf(key, sizeof(key), "%" PRIu64 ":%" PRIx64 ":%" PRIu64 ":%d", map_id, fr->addr,
		 fn_id, line);
	i = intern__get(&p->loc_keys, key, strlen(key), &added);
	if (i < 0) {
		p->err = (int)i;
		return 0;
	}
	if (added) {
		loc = vec__push(&p->locs);
		ln = vec__push(&p->lines);
		if (!loc || !ln) {
			p->err = -ENOMEM;
			return 0;
		}
		perftools__profiles__location__init(loc);
		perftools__profiles__line__init(ln);
		loc->id = i + 1;
		loc->mapping_id = map_id;
		loc->address = fr->addr;
		ln->function_id = fn_id;
		ln->line = line;
		/* line pointers are set once the lines array stops moving */
		loc->n_line = fn_id ? 1 : 0;
	}
	return i + 1;
}

static void pp_sample(struct pp *p, const struct rpt_process *proc, const struct rpt_stack *st,
		      int64_t key_pid, int64_t key_comm)
{
	Perftools__Profiles__Sample *s;
	Perftools__Profiles__Label *lb;
	int64_t *val;
	uint64_t *id;
	char comm[17];
	size_t k;

	s = vec__push(&p->samples);
	if (!s) {
		p->err = -ENOMEM;
		return;
	}
	perftools__profiles__sample__init(s);
	/* offsets for now: the arrays may move while they grow */
	s->location_id = (uint64_t *)(uintptr_t)p->loc_ids.n;
	s->n_location_id = st->nframes;
	for (k = 0; k < st->nframes && !p->err; k++) {
		uint64_t loc = pp_location(p, proc->pid, &st->frames[k]);

		/* frames[0] is innermost, and pprof wants the leaf first too */
		if (!(id = vec__push(&p->loc_ids))) {
			p->err = -ENOMEM;
			return;
		}
		*id = loc;
	}
	s->value = (int64_t *)(uintptr_t)p->values.n;
	s->n_value = PPROF_NVALUES;
	for (k = 0; k < PPROF_NVALUES; k++) {
		if (!(val = vec__push(&p->values))) {
			p->err = -ENOMEM;
			return;
		}
		switch (k) {
		case PPROF_INUSE_SPACE:
			*val = st->live_bytes;
			break;
		case PPROF_INUSE_OBJECTS:
			*val = st->live_allocs;
			break;
		case PPROF_ALLOC_SPACE:
			*val = st->alloc_bytes > INT64_MAX ? INT64_MAX : (int64_t)st->alloc_bytes;
			break;
		default:
			*val = st->allocs > INT64_MAX ? INT64_MAX : (int64_t)st->allocs;
			break;
		}
	}
	memcpy(comm, proc->comm, 16);
	comm[16] = '\0';
	s->label = (Perftools__Profiles__Label **)(uintptr_t)p->labels.n;
	s->n_label = 2;
	lb = vec__push(&p->labels);
	if (!lb) {
		p->err = -ENOMEM;
		return;
	}
	perftools__profiles__label__init(lb);
	lb->key = key_pid;
	lb->num = proc->pid;
	lb = vec__push(&p->labels);
	if (!lb) {
		p->err = -ENOMEM;
		return;
	}
	perftools__profiles__label__init(lb);
	lb->key = key_comm;
	lb->str = pp_str(p, comm);
	if (!lb->str && !p->err)
		s->n_label = 1;	/* an empty comm: no label rather than one pointing at "" */
}

/* "2024-05-01T12:00:00Z" (optionally with a fraction) as ns since the epoch; 0 when unparsable */
static int64_t iso_to_ns(const char *s)
{
	struct tm tm = {};
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	double frac = 0;
	time_t t;

	if (!rest)
		return 0;
	if (*rest == '.')
		frac = strtod(rest, NULL);
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	return (int64_t)t * 1000000000LL + (int64_t)llround(frac * 1e9);
}

static void pp_free(struct pp *p)
{
	intern__free(&p->strs);
	intern__free(&p->map_keys);
	intern__free(&p->func_keys);
	intern__free(&p->loc_keys);
	free(p->maps.v);
	free(p->funcs.v);
	free(p->locs.v);
	free(p->lines.v);
	free(p->samples.v);
	free(p->labels.v);
	free(p->loc_ids.v);
	free(p->values.v);
}

/* an array of pointers to each record of a, for protobuf-c's repeated message fields */
static void **ptrs_of(struct vec *a, int *err)
{
	void **v;
	size_t i;

	if (*err || !a->n)
		return NULL;
	v = calloc(a->n, sizeof(*v));
	if (!v) {
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < a->n; i++)
		v[i] = (char *)a->v + i * a->size;
	return v;
}

/* main binary first, as pprof asks: the first mapping named like the first process */
static void main_mapping_first(struct pp *p, const struct rpt *r, Perftools__Profiles__Mapping **m)
{
	char comm[16];
	size_t i;

	if (!r->nprocs || p->maps.n < 2)
		return;
	memcpy(comm, r->procs[0].comm, 15);
	comm[15] = '\0';
	if (!*comm)
		return;
	for (i = 0; i < p->maps.n; i++) {
		const char *fn = p->strs.keys[m[i]->filename], *b = strrchr(fn, '/');

		b = b ? b + 1 : fn;
		/* comm is the executable's name cut to 15 bytes */
		if (!strncmp(b, comm, 15) && strlen(b) >= strlen(comm)) {
			Perftools__Profiles__Mapping *t = m[0];

			m[0] = m[i];
			m[i] = t;
			return;
		}
	}
}

int report__pprof_encode(const struct rpt *r, uint8_t **out, size_t *len)
{
	static const char *const types[PPROF_NVALUES][2] = {
		[PPROF_INUSE_SPACE] = { "inuse_space", "bytes" },
		[PPROF_INUSE_OBJECTS] = { "inuse_objects", "count" },
		[PPROF_ALLOC_SPACE] = { "alloc_space", "bytes" },
		[PPROF_ALLOC_OBJECTS] = { "alloc_objects", "count" },
	};
	Perftools__Profiles__Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt[PPROF_NVALUES], *vtp[PPROF_NVALUES], period_type;
	Perftools__Profiles__Sample **samples = NULL;
	Perftools__Profiles__Location **locs = NULL;
	Perftools__Profiles__Line **lines = NULL;
	struct pp p = {
		.maps.size = sizeof(Perftools__Profiles__Mapping),
		.funcs.size = sizeof(Perftools__Profiles__Function),
		.locs.size = sizeof(Perftools__Profiles__Location),
		.lines.size = sizeof(Perftools__Profiles__Line),
		.samples.size = sizeof(Perftools__Profiles__Sample),
		.labels.size = sizeof(Perftools__Profiles__Label),
		.loc_ids.size = sizeof(uint64_t),
		.values.size = sizeof(int64_t),
	};
	Perftools__Profiles__Label **labels = NULL;
	int64_t key_pid, key_comm, comment;
	char buf[256];
	size_t i, j, n;
	uint8_t *data;
	int err = 0;

	if (!r || !out || !len)
		return -EINVAL;
	*out = NULL;
	*len = 0;

	/* string_table[0] must be "" */
	if (intern__get(&p.strs, "", 0, NULL) < 0) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < PPROF_NVALUES; i++) {
		perftools__profiles__value_type__init(&vt[i]);
		vt[i].type = pp_str(&p, types[i][0]);
		vt[i].unit = pp_str(&p, types[i][1]);
		vtp[i] = &vt[i];
	}
	key_pid = pp_str(&p, "pid");
	key_comm = pp_str(&p, "comm");
	for (i = 0; i < r->nprocs && !p.err; i++)
		for (j = 0; j < r->procs[i].nstacks && !p.err; j++)
			pp_sample(&p, &r->procs[i], &r->procs[i].stacks[j], key_pid, key_comm);
	if (r->mode && !strcmp(r->mode, "watch"))
		snprintf(buf, sizeof(buf), "memslope %s, watch mode: bytes of new pages per stack "
			 "(page faults; frees not seen)", MEMSLOPE_VERSION);
	else if (r->sample_bytes)
		snprintf(buf, sizeof(buf), "memslope %s, %s mode, live bytes per stack estimated "
			 "from heap samples every %llu bytes", MEMSLOPE_VERSION, r->mode ? r->mode : "exact",
			 (unsigned long long)r->sample_bytes);
	else
		snprintf(buf, sizeof(buf), "memslope %s, %s mode, %s", MEMSLOPE_VERSION,
			 r->mode ? r->mode : "exact", "exact live bytes per stack (unsampled)");
	comment = pp_str(&p, buf);
	perftools__profiles__value_type__init(&period_type);
	period_type.type = pp_str(&p, "space");
	period_type.unit = pp_str(&p, "bytes");
	if (p.err) {
		err = p.err;
		goto cleanup;
	}

	/* the arrays are final: turn offsets into pointers */
	for (i = 0; i < p.samples.n; i++) {
		Perftools__Profiles__Sample *s = (Perftools__Profiles__Sample *)p.samples.v + i;

		s->location_id = (uint64_t *)p.loc_ids.v + (uintptr_t)s->location_id;
		s->value = (int64_t *)p.values.v + (uintptr_t)s->value;
	}
	labels = (Perftools__Profiles__Label **)ptrs_of(&p.labels, &err);
	for (i = 0; i < p.samples.n && !err; i++) {
		Perftools__Profiles__Sample *s = (Perftools__Profiles__Sample *)p.samples.v + i;

		s->label = labels + (uintptr_t)s->label;
	}
	lines = (Perftools__Profiles__Line **)ptrs_of(&p.lines, &err);
	locs = (Perftools__Profiles__Location **)ptrs_of(&p.locs, &err);
	for (i = 0; i < p.locs.n && !err; i++)
		locs[i]->line = lines + i;
	samples = (Perftools__Profiles__Sample **)ptrs_of(&p.samples, &err);
	prof.mapping = (Perftools__Profiles__Mapping **)ptrs_of(&p.maps, &err);
	prof.function = (Perftools__Profiles__Function **)ptrs_of(&p.funcs, &err);
	if (err)
		goto cleanup;
	if (prof.mapping)
		main_mapping_first(&p, r, prof.mapping);

	prof.n_sample_type = PPROF_NVALUES;
	prof.sample_type = vtp;
	prof.n_sample = p.samples.n;
	prof.sample = samples;
	prof.n_mapping = p.maps.n;
	prof.n_location = p.locs.n;
	prof.location = locs;
	prof.n_function = p.funcs.n;
	prof.n_string_table = p.strs.n;
	prof.string_table = p.strs.keys;
	prof.time_nanos = iso_to_ns(r->started_at);
	if (isfinite(r->duration_s) && r->duration_s > 0)
		prof.duration_nanos = (int64_t)llround(r->duration_s * 1e9);
	prof.period_type = &period_type;
	prof.period = 1;
	prof.n_comment = 1;
	prof.comment = &comment;
	prof.default_sample_type = vt[PPROF_INUSE_SPACE].type;

	n = perftools__profiles__profile__get_packed_size(&prof);
	data = malloc(n ? n : 1);
	if (!data) {
		err = -ENOMEM;
		goto cleanup;
	}
	perftools__profiles__profile__pack(&prof, data);
	*out = data;
	*len = n;
cleanup:
	free(samples);
	free(labels);
	free(lines);
	free(locs);
	free(prof.mapping);
	free(prof.function);
	pp_free(&p);
	return err;
}

int report__write_pprof(const struct rpt *r, FILE *f)
{
	unsigned char chunk[16384];
	z_stream zs = {};
	uint8_t *data = NULL;
	size_t len;
	int err, zret;

	if (!f)
		return -EINVAL;
	err = report__pprof_encode(r, &data, &len);
	if (err)
		return err;
	/* windowBits 15 + 16: a gzip header and trailer, as pprof reads */
	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		err = -ENOMEM;
		goto cleanup;
	}
	zs.next_in = data;
	zs.avail_in = (uInt)len;
	do {
		size_t have;

		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		zret = deflate(&zs, Z_FINISH);
		if (zret == Z_STREAM_ERROR) {
			err = -EIO;
			break;
		}
		have = sizeof(chunk) - zs.avail_out;
		if (have && fwrite(chunk, 1, have, f) != have) {
			err = errno ? -errno : -EIO;
			break;
		}
	} while (zret != Z_STREAM_END);
	deflateEnd(&zs);
	if (!err && (fflush(f) || ferror(f)))
		err = errno ? -errno : -EIO;
cleanup:
	free(data);
	return err;
}
