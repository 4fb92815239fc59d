#include "vigil_mqtt.h"
#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QUEUE_DEPTH 64
/* Delivery confirmations are tracked per token in a ring this deep (more than any batch in flight). */
#define DELIVERY_SLOTS 4096
#define QUEUE_PAYLOAD 16448

typedef struct queued_message {
    char topic[256];
    int length;
    unsigned char *payload;
} queued_message;

struct vigil_mqtt {
    MQTTAsync client;
    int version;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* Completion of the operation being waited for (connect, subscribe, disconnect). */
    int op_done;
    int op_code;
    char op_message[256];
    int losses;
    char last_error[256];
    queued_message queue[QUEUE_DEPTH];
    int head, count;
    /* delivered[token % DELIVERY_SLOTS] == token once the broker confirmed it; failed likewise. */
    int delivered[DELIVERY_SLOTS];
    int failed[DELIVERY_SLOTS];
    /* QoS 0 publishes all carry Paho token 0 and complete (onSuccess once written to the socket,
     * onFailure if dropped) in the order they were sent: the k-th sent gets facade token -k and
     * waits for the k-th completion, whose result is qos0_result[(k - 1) % DELIVERY_SLOTS]. */
    int qos0_sent, qos0_completed;
    signed char qos0_result[DELIVERY_SLOTS];
};

/* Waits are timed on CLOCK_MONOTONIC (the condition variable is made with that clock): a wall
 * clock stepped by NTP or by hand must neither stall a wait nor end it early. */
static void deadline_after(struct timespec *ts, long ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) { ts->tv_sec += 1; ts->tv_nsec -= 1000000000L; }
}

static void finish(vigil_mqtt *m, int code, const char *message) {
    pthread_mutex_lock(&m->lock);
    m->op_done = 1;
    m->op_code = code;
    snprintf(m->op_message, sizeof m->op_message, "%s", message ? message : "");
    pthread_cond_broadcast(&m->changed);
    pthread_mutex_unlock(&m->lock);
}

static void on_success(void *ctx, MQTTAsync_successData *d) { (void)d; finish(ctx, 0, NULL); }
static void on_success5(void *ctx, MQTTAsync_successData5 *d) { (void)d; finish(ctx, 0, NULL); }
static void on_failure(void *ctx, MQTTAsync_failureData *d) {
    finish(ctx, d && d->code ? d->code : -1, d && d->message ? d->message : (d ? MQTTAsync_strerror(d->code) : "failed"));
}
static void on_failure5(void *ctx, MQTTAsync_failureData5 *d) {
    char text[256];
    if (d && d->reasonCode)
        snprintf(text, sizeof text, "%s (MQTT 5 reason %d: %s)", d->message ? d->message : "refused", d->reasonCode, MQTTReasonCode_toString(d->reasonCode));
    else
        snprintf(text, sizeof text, "%s", d && d->message ? d->message : (d ? MQTTAsync_strerror(d->code) : "failed"));
    finish(ctx, d && d->code ? d->code : (d && d->reasonCode ? d->reasonCode : -1), text);
}

/* A SUBACK can refuse a subscription (MQTT 5 reason ≥ 0x80, MQTT 3.1.1 granted QoS 0x80) and Paho
 * still calls the success callback: the refusal is a failure here. */
static void on_subscribed(void *ctx, MQTTAsync_successData *d) {
    if (d && d->alt.qos == 0x80) finish(ctx, -1, "the broker refused the subscription (SUBACK 0x80)");
    else finish(ctx, 0, NULL);
}
static void on_subscribed5(void *ctx, MQTTAsync_successData5 *d) {
    char text[256];
    if (d && d->reasonCode >= 0x80) {
        snprintf(text, sizeof text, "the broker refused the subscription (MQTT 5 reason %d: %s)", d->reasonCode, MQTTReasonCode_toString(d->reasonCode));
        finish(ctx, d->reasonCode, text);
    } else {
        finish(ctx, 0, NULL);
    }
}

static void note_delivery(vigil_mqtt *m, int token, int ok) {
    pthread_mutex_lock(&m->lock);
    if (token == 0) {  /* a QoS 0 message: message ids start at 1 */
        m->qos0_result[m->qos0_completed % DELIVERY_SLOTS] = ok ? 1 : -1;
        m->qos0_completed += 1;
    } else if (ok) m->delivered[token % DELIVERY_SLOTS] = token;
    else m->failed[token % DELIVERY_SLOTS] = token;
    pthread_cond_broadcast(&m->changed);
    pthread_mutex_unlock(&m->lock);
}
static void on_sent(void *ctx, MQTTAsync_successData *d) { note_delivery(ctx, d ? d->token : 0, 1); }
static void on_sent5(void *ctx, MQTTAsync_successData5 *d) { note_delivery(ctx, d ? d->token : 0, 1); }
static void on_send_failed(void *ctx, MQTTAsync_failureData *d) { note_delivery(ctx, d ? d->token : 0, 0); }
static void on_send_failed5(void *ctx, MQTTAsync_failureData5 *d) { note_delivery(ctx, d ? d->token : 0, 0); }

static void connection_lost(void *ctx, char *cause) {
    vigil_mqtt *m = ctx;
    pthread_mutex_lock(&m->lock);
    m->losses += 1;
    snprintf(m->last_error, sizeof m->last_error, "connection lost: %s", cause ? cause : "broker closed the connection");
    pthread_cond_broadcast(&m->changed);
    pthread_mutex_unlock(&m->lock);
}

static int message_arrived(void *ctx, char *topic, int topiclen, MQTTAsync_message *msg) {
    vigil_mqtt *m = ctx;
    pthread_mutex_lock(&m->lock);
    if (m->count < QUEUE_DEPTH && msg->payloadlen <= QUEUE_PAYLOAD) {
        queued_message *q = &m->queue[(m->head + m->count) % QUEUE_DEPTH];
        int n = topiclen > 0 ? topiclen : (int)strlen(topic);
        if (n > (int)sizeof q->topic - 1) n = sizeof q->topic - 1;
        memcpy(q->topic, topic, n);
        q->topic[n] = 0;
        memcpy(q->payload, msg->payload, msg->payloadlen);
        q->length = msg->payloadlen;
        m->count += 1;
        pthread_cond_broadcast(&m->changed);
    }
    pthread_mutex_unlock(&m->lock);
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

/* Paho initialises OpenSSL (algorithm tables, error strings) when the first client is created,
 * TLS or not; that alone makes ~3 MB of libcrypto resident. OpenSSL ≥ 1.1 initialises itself on
 * first use, so leave it to the first TLS connection. */
static pthread_once_t paho_once = PTHREAD_ONCE_INIT;
static void paho_global_init(void) {
    MQTTAsync_init_options init = MQTTAsync_init_options_initializer;
    init.do_openssl_init = 0;
    MQTTAsync_global_init(&init);
}

vigil_mqtt *vigil_mqtt_create(const char *uri, const char *client_id, int version, char *err, size_t errlen) {
    pthread_once(&paho_once, paho_global_init);
    vigil_mqtt *m = calloc(1, sizeof *m);
    if (!m) { snprintf(err, errlen, "out of memory"); return NULL; }
    for (int i = 0; i < QUEUE_DEPTH; i++) {
        m->queue[i].payload = malloc(QUEUE_PAYLOAD);
        if (!m->queue[i].payload) { snprintf(err, errlen, "out of memory"); vigil_mqtt_destroy(m); return NULL; }
    }
    pthread_mutex_init(&m->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&m->changed, &attr);
    pthread_condattr_destroy(&attr);
    m->version = version;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer5;
    co.MQTTVersion = version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    int rc = MQTTAsync_createWithOptions(&m->client, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "cannot create an MQTT client for %s: %s", uri, MQTTAsync_strerror(rc));
        m->client = NULL;
        vigil_mqtt_destroy(m);
        return NULL;
    }
    MQTTAsync_setCallbacks(m->client, m, connection_lost, message_arrived, NULL);
    return m;
}

static int wait_op(vigil_mqtt *m, long timeout_ms, char *err, size_t errlen, const char *what) {
    struct timespec ts;
    deadline_after(&ts, timeout_ms);
    pthread_mutex_lock(&m->lock);
    while (!m->op_done) {
        if (pthread_cond_timedwait(&m->changed, &m->lock, &ts) == ETIMEDOUT) break;
    }
    int done = m->op_done, code = m->op_code;
    if (err && errlen) {
        if (!done) snprintf(err, errlen, "%s: no answer within %ld ms", what, timeout_ms);
        else if (code) snprintf(err, errlen, "%s: %s", what, m->op_message);
    }
    pthread_mutex_unlock(&m->lock);
    return done ? code : MQTTASYNC_FAILURE;
}

static void start_op(vigil_mqtt *m) {
    pthread_mutex_lock(&m->lock);
    m->op_done = 0;
    m->op_code = 0;
    m->op_message[0] = 0;
    pthread_mutex_unlock(&m->lock);
}

int vigil_mqtt_connect(vigil_mqtt *m, const vigil_mqtt_options *o, char *err, size_t errlen) {
    MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions c5 = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_connectOptions *opts = m->version == 5 ? &c5 : &c;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    opts->keepAliveInterval = o->keepalive_s;
    opts->connectTimeout = (o->connect_timeout_ms + 999) / 1000;
    opts->automaticReconnect = 0; /* vigil owns the back-off */
    opts->context = m;
    if (m->version == 5) {
        opts->cleanstart = 1;
        opts->onSuccess5 = on_success5;
        opts->onFailure5 = on_failure5;
    } else {
        opts->cleansession = 1;
        opts->onSuccess = on_success;
        opts->onFailure = on_failure;
    }
    opts->username = o->username;
    opts->password = o->password;
    if (o->will_topic) {
        will.topicName = o->will_topic;
        will.payload.data = o->will_payload;
        will.payload.len = o->will_length;
        will.qos = o->will_qos;
        will.retained = o->will_retained;
        opts->will = &will;
    }
    if (o->tls || o->ca_file || o->cert_file) {
        /* trustStore NULL: Paho loads OpenSSL's default verify paths (disableDefaultTrustStore = 0). */
        ssl.trustStore = o->ca_file;
        ssl.keyStore = o->cert_file;
        ssl.privateKey = o->key_file;
        ssl.enableServerCertAuth = 1;
        ssl.verify = o->verify_hostname;
        opts->ssl = &ssl;
    }
    start_op(m);
    int rc = MQTTAsync_connect(m->client, opts);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "connect: %s", MQTTAsync_strerror(rc));
        return rc;
    }
    return wait_op(m, o->connect_timeout_ms + 1000, err, errlen, "connect");
}

int vigil_mqtt_is_connected(vigil_mqtt *m) { return m->client ? MQTTAsync_isConnected(m->client) : 0; }

int vigil_mqtt_publish(vigil_mqtt *m, const char *topic, const void *payload, int length, int qos, int retained, int *token) {
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
    r.context = m;
    if (m->version == 5) { r.onSuccess5 = on_sent5; r.onFailure5 = on_send_failed5; }
    else { r.onSuccess = on_sent; r.onFailure = on_send_failed; }
    msg.payload = (void *)payload;
    msg.payloadlen = length;
    msg.qos = qos;
    msg.retained = retained;
    int k = 0;
    if (qos == 0) {
        /* Numbered before sending: its completion may come before sendMessage returns. */
        pthread_mutex_lock(&m->lock);
        k = ++m->qos0_sent;
        pthread_mutex_unlock(&m->lock);
    }
    int rc = MQTTAsync_sendMessage(m->client, topic, &msg, &r);
    if (qos == 0 && rc != MQTTASYNC_SUCCESS) {
        pthread_mutex_lock(&m->lock);
        m->qos0_sent -= 1;  /* never queued, so it will not complete */
        pthread_mutex_unlock(&m->lock);
    }
    if (token) *token = qos == 0 ? -k : r.token;
    return rc;
}

int vigil_mqtt_wait(vigil_mqtt *m, int token, long timeout_ms) {
    /* Paho's own waitForCompletion polls every 100 ms; the callbacks answer at once. */
    struct timespec ts;
    deadline_after(&ts, timeout_ms);
    int slot = token < 0 ? (-token - 1) % DELIVERY_SLOTS : token % DELIVERY_SLOTS, rc = MQTTASYNC_FAILURE;
    pthread_mutex_lock(&m->lock);
    for (;;) {
        if (token < 0) {
            if (m->qos0_completed >= -token) { rc = m->qos0_result[slot] > 0 ? MQTTASYNC_SUCCESS : MQTTASYNC_FAILURE; break; }
        } else if (token == 0) {
            break;  /* not a token this facade hands out */
        } else {
            if (m->delivered[slot] == token) { rc = MQTTASYNC_SUCCESS; break; }
            if (m->failed[slot] == token) break;
        }
        if (pthread_cond_timedwait(&m->changed, &m->lock, &ts) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int vigil_mqtt_subscribe(vigil_mqtt *m, const char *topic, int qos, long timeout_ms, char *err, size_t errlen) {
    MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
    r.context = m;
    if (m->version == 5) { r.onSuccess5 = on_subscribed5; r.onFailure5 = on_failure5; }
    else { r.onSuccess = on_subscribed; r.onFailure = on_failure; }
    start_op(m);
    int rc = MQTTAsync_subscribe(m->client, topic, qos, &r);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, errlen, "subscribe %s: %s", topic, MQTTAsync_strerror(rc));
        return rc;
    }
    return wait_op(m, timeout_ms, err, errlen, "subscribe");
}

int vigil_mqtt_next_message(vigil_mqtt *m, char *topic, size_t topiclen, void *payload, size_t payloadlen, long timeout_ms) {
    struct timespec ts;
    deadline_after(&ts, timeout_ms);
    pthread_mutex_lock(&m->lock);
    while (m->count == 0) {
        if (timeout_ms <= 0 || pthread_cond_timedwait(&m->changed, &m->lock, &ts) == ETIMEDOUT) break;
    }
    int n = 0;
    if (m->count > 0) {
        queued_message *q = &m->queue[m->head];
        if ((size_t)q->length > payloadlen) {
            n = -1;
        } else {
            snprintf(topic, topiclen, "%s", q->topic);
            memcpy(payload, q->payload, q->length);
            n = q->length;
        }
        m->head = (m->head + 1) % QUEUE_DEPTH;
        m->count -= 1;
    }
    pthread_mutex_unlock(&m->lock);
    return n;
}

int vigil_mqtt_connection_losses(vigil_mqtt *m) {
    pthread_mutex_lock(&m->lock);
    int n = m->losses;
    pthread_mutex_unlock(&m->lock);
    return n;
}

void vigil_mqtt_last_error(vigil_mqtt *m, char *err, size_t errlen) {
    pthread_mutex_lock(&m->lock);
    snprintf(err, errlen, "%s", m->last_error);
    pthread_mutex_unlock(&m->lock);
}

int vigil_mqtt_disconnect(vigil_mqtt *m, int timeout_ms) {
    if (!m->client || !MQTTAsync_isConnected(m->client)) return 0;
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = timeout_ms;
    d.context = m;
    if (m->version == 5) { d.onSuccess5 = on_success5; d.onFailure5 = on_failure5; }
    else { d.onSuccess = on_success; d.onFailure = on_failure; }
    start_op(m);
    int rc = MQTTAsync_disconnect(m->client, &d);
    if (rc != MQTTASYNC_SUCCESS) return rc;
    return wait_op(m, timeout_ms + 500, NULL, 0, "disconnect");
}

void vigil_mqtt_destroy(vigil_mqtt *m) {
    if (!m) return;
    if (m->client) MQTTAsync_destroy(&m->client);
    for (int i = 0; i < QUEUE_DEPTH; i++) free(m->queue[i].payload);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->changed);
    free(m);
}

const char *vigil_mqtt_strerror(int code) { return MQTTAsync_strerror(code); }
