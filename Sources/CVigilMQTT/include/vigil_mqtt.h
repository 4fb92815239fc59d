/* A small blocking facade over Eclipse Paho's asynchronous client (MQTTAsync): Paho's option
   structs are initialised by C macros Swift cannot import, and its callbacks arrive on Paho's
   own thread. This file turns them into calls that wait with a timeout and a copied message queue. */
#ifndef VIGIL_MQTT_H
#define VIGIL_MQTT_H
#include <stddef.h>

typedef struct vigil_mqtt vigil_mqtt;

typedef struct vigil_mqtt_options {
    int mqtt_version;          /* 4 = 3.1.1, 5 = 5 */
    int keepalive_s;
    int connect_timeout_ms;
    const char *username;      /* NULL: none */
    const char *password;
    int tls;                   /* ssl:// or mqtts://: TLS, the server's certificate verified */
    const char *ca_file;       /* NULL: the system's default trust store (OpenSSL's default paths) */
    const char *cert_file;
    const char *key_file;
    int verify_hostname;
    const char *will_topic;    /* NULL: no will */
    const void *will_payload;
    int will_length;
    int will_qos;
    int will_retained;
} vigil_mqtt_options;

/* NULL on failure, with a message in err. */
vigil_mqtt *vigil_mqtt_create(const char *uri, const char *client_id, int mqtt_version, char *err, size_t errlen);
/* 0 on success; otherwise a Paho or MQTT reason code with a message in err. Blocks up to connect_timeout_ms. */
int vigil_mqtt_connect(vigil_mqtt *m, const vigil_mqtt_options *o, char *err, size_t errlen);
int vigil_mqtt_is_connected(vigil_mqtt *m);
/* Sends without waiting; *token identifies the delivery for vigil_mqtt_wait. */
int vigil_mqtt_publish(vigil_mqtt *m, const char *topic, const void *payload, int length, int qos, int retained, int *token);
/* 0 when the delivery with `token` completed within timeout_ms: PUBACK for QoS 1; for QoS 0,
 * the message written to the socket (not proof the broker got it: a half-open connection loses it). */
int vigil_mqtt_wait(vigil_mqtt *m, int token, long timeout_ms);
int vigil_mqtt_subscribe(vigil_mqtt *m, const char *topic, int qos, long timeout_ms, char *err, size_t errlen);
/* Copies the next received message; returns its payload length, 0 on timeout, -1 if the payload did not fit. */
int vigil_mqtt_next_message(vigil_mqtt *m, char *topic, size_t topiclen, void *payload, size_t payloadlen, long timeout_ms);
/* How many times the connection was lost since creation (the cause is in vigil_mqtt_last_error). */
int vigil_mqtt_connection_losses(vigil_mqtt *m);
void vigil_mqtt_last_error(vigil_mqtt *m, char *err, size_t errlen);
int vigil_mqtt_disconnect(vigil_mqtt *m, int timeout_ms);
void vigil_mqtt_destroy(vigil_mqtt *m);
const char *vigil_mqtt_strerror(int code);
#endif
