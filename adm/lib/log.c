/* log.c: leveled logging through the device's callback; libzadm never prints by itself. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "internal.h"

/* What each kind counts, for the summary line. */
static const char *const rl_what[ZADM_RL_COUNT] = {
	[ZADM_RL_MALFORMED] = "malformed lines from the server",
	[ZADM_RL_JOBS_FULL] = "calls refused because too many were waiting",
	[ZADM_RL_RPC] = "failed calls",
	[ZADM_RL_FOTA] = "failed FOTA messages",
};

void zadm_log(const struct zadm_logger *lg, int level, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	if (!lg || !lg->fn || level > lg->level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	lg->fn(lg->userdata, level, buf);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void summary(struct zadm_device *dev, int kind, unsigned long n)
{
	zadm_log(&dev->logger, ZADM_LOG_WARN, "ignored %lu more %s in the last %d s", n, rl_what[kind],
		 ZADM_RL_INTERVAL_MS / 1000);
}

void zadm_log_limited(struct zadm_device *dev, int kind, int level, const char *fmt, ...)
{
	struct zadm_ratelimit *rl = &dev->rl[kind];
	long long now = mono_ms();
	unsigned long report = 0;
	char buf[2048];
	va_list ap;

	if (!dev->logger.fn || level > dev->logger.level)
		return;
	pthread_mutex_lock(&dev->rl_lock);
	if (rl->start_ms && now - rl->start_ms < ZADM_RL_INTERVAL_MS) {
		rl->suppressed++;
		pthread_mutex_unlock(&dev->rl_lock);
		return;
	}
	/* A new interval: what the last one held back first, then this message. */
	report = rl->suppressed;
	rl->suppressed = 0;
	rl->start_ms = now;
	pthread_mutex_unlock(&dev->rl_lock);
	if (report)
		summary(dev, kind, report);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dev->logger.fn(dev->logger.userdata, level, buf);
}

void zadm_log_limited_flush(struct zadm_device *dev)
{
	unsigned long report[ZADM_RL_COUNT];

	pthread_mutex_lock(&dev->rl_lock);
	for (int k = 0; k < ZADM_RL_COUNT; k++) {
		report[k] = dev->rl[k].suppressed;
		dev->rl[k].suppressed = 0;
		dev->rl[k].start_ms = 0;
	}
	pthread_mutex_unlock(&dev->rl_lock);
	for (int k = 0; k < ZADM_RL_COUNT; k++)
		if (report[k])
			summary(dev, k, report[k]);
}
