/* Eclipse Paho MQTT C (Debian libpaho-mqtt-dev): the asynchronous client with TLS (paho-mqtt3as).
   Chosen over libmosquitto because Debian ships its static libraries, which the static ARM build needs. */
#include <MQTTAsync.h>
