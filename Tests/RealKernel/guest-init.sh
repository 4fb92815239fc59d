#!/bin/busybox sh
# /init of the real-kernel bench's initramfs: loads gpio-sim, i2c-stub and i2c-dev, builds the
# simulated hardware, runs the real `vigil` binary against it and prints one CHECK line per check,
# then `SUMMARY n passed, m failed`. The host (Tests/RealKernel/run) reads the console.
/bin/busybox --install -s /bin
export PATH=/usr/local/bin:/usr/bin:/usr/sbin:/bin:/sbin
export VIGIL_SOCKET=/tmp/vigil/control.sock
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /run
mount -t tmpfs tmp /tmp
# What differs between the guest architectures, written by the host: SERIAL (the UART wired to the
# Modbus peer), GUEST_ARCH, and VIGIL_SHA256 (of the binary the host put in).
. /bench.env
insmod /lib/modules/configfs.ko && mount -t configfs none /sys/kernel/config
insmod /lib/modules/gpio-sim.ko
insmod /lib/modules/i2c-dev.ko
insmod /lib/modules/i2c-stub.ko chip_addr=0x48,0x49,0x4a,0x4b,0x53
insmod /lib/modules/lm75.ko
for m in industrialio kfifo_buf industrialio-triggered-buffer ti-ads1015; do insmod /lib/modules/$m.ko; done
# The watchdog core is a module on amd64 and built in on arm64.
[ -f /lib/modules/watchdog.ko ] && insmod /lib/modules/watchdog.ko
insmod /lib/modules/i6300esb.ko
stty -F $SERIAL raw 2>/dev/null

passed=0; failed=0
check() { # NAME RESULT(0=pass) DETAIL
  if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "CHECK PASS $1: $3"; else failed=$((failed + 1)); echo "CHECK FAIL $1: $3"; fi
}
now_ms() { read up _ < /proc/uptime; echo $(( ${up%.*} * 1000 + 1${up#*.}0 - 1000 )); }

# gpio-sim: one bank, named lines, live.
G=/sys/kernel/config/gpio-sim/bench
mkdir $G $G/bank0
echo vigil-bench > $G/bank0/label
echo 8 > $G/bank0/num_lines
i=0
for name in RUN_PERMIT ESTOP_FB RESET_BTN SPARE_OUT SPARE_IN HEARTBEAT TACHO STATUS_LED; do
  mkdir $G/bank0/line$i && echo $name > $G/bank0/line$i/name
  i=$((i + 1))
done
echo 1 > $G/live
SIM=/sys/devices/platform/$(cat $G/dev_name)/$(cat $G/bank0/chip_name)
pull() { echo $2 > $SIM/sim_gpio$1/pull; }
value() { cat $SIM/sim_gpio$1/value; }
RUN_PERMIT=0; ESTOP_FB=1; RESET_BTN=2; SPARE_OUT=3; SPARE_IN=4; HEARTBEAT=5; TACHO=6; STATUS_LED=7
pull $ESTOP_FB pull-up
pull $RESET_BTN pull-down
pull $TACHO pull-down
# The reset button: pressed for 200 ms and released (a reset counts on the release of a press
# between 50 ms and 5 s).
press_reset() { pull $RESET_BTN pull-up; sleep 0.2; pull $RESET_BTN pull-down; sleep 0.15; }
# Waits up to $2 tenths of a second for the node to report interlock state $1.
wait_state() { for i in $(seq $2); do vigil status --json > /tmp/ws.json 2>/dev/null && grep -q "\"state\" : \"$1\"" /tmp/ws.json && return 0; sleep 0.1; done; return 1; }
# How many distinct levels the heartbeat line shows over N samples.
heartbeat_levels() { seen=""; for i in $(seq $1); do seen="$seen$(value $HEARTBEAT)"; done; echo "$seen" | grep -o . | sort -u | wc -l; }
# The status LED's on-times over about $1 ms, from its edges as the shell sees them (ms each,
# space-separated; the first, partial one left out), polled as fast as the shell can.
led_on_times() {
  end=$(( $(now_ms) + $1 )); last=$(value $STATUS_LED); rise=""; out=""
  while [ $(now_ms) -lt $end ]; do
    v=$(value $STATUS_LED)
    if [ "$v" != "$last" ]; then
      t=$(now_ms)
      if [ "$v" = 1 ]; then rise=$t; elif [ -n "$rise" ]; then out="$out $((t - rise))"; fi
      last=$v
    fi
  done
  echo $out
}
# Whether every on-time in $1 lies within $2 ± $3 ms, and there are at least $4 of them.
near() { n=0; for x in $1; do [ $x -ge $(($2 - $3)) ] && [ $x -le $(($2 + $3)) ] || return 1; n=$((n + 1)); done; [ $n -ge $4 ]; }

# i2c-stub: a TMP102 at 0x48 (42.375 °C, config 0x60A0) and an ADXL345's DEVID at 0x53.
BUS=""
for d in /sys/bus/i2c/devices/i2c-*; do [ "$(cat $d/name)" = "SMBus stub driver" ] && BUS=${d##*-}; done
i2cset -y $BUS 0x48 0x00 0x2a; i2cset -y $BUS 0x48 0x01 0x60; i2cset -y $BUS 0x48 0x02 0xa0
i2cset -y $BUS 0x53 0x00 0xe5
# An ADS1115 at 0x49: Hi_thresh 0x7FFF at its power-up value (bytes 3, 4), the conversion's high byte 0x38.
i2cset -y $BUS 0x49 0x03 0x7f; i2cset -y $BUS 0x49 0x04 0xff; i2cset -y $BUS 0x49 0x00 0x38
# An LM75 at 0x4a (42.5 °C: 0x2A80, which SMBus word order stores as 0x802A), bound to the kernel's lm75 driver.
i2cset -y $BUS 0x4a 0x00 0x802a w
echo lm75 0x4a > /sys/bus/i2c/devices/i2c-$BUS/new_device
# An ADS1115 at 0x4b bound to the kernel's ti-ads1015 (IIO) driver: its conversion word 0x3840
# (14400 codes; the driver reads the word byte-swapped, as SMBus order stores 0x4038), at the
# driver's default ±2.048 V is 0.0625 mV a code: 900 mV on in_voltage0.
i2cset -y $BUS 0x4b 0x00 0x4038 w
echo ads1115 0x4b > /sys/bus/i2c/devices/i2c-$BUS/new_device
echo "bench: $GUEST_ARCH guest: gpio-sim at $SIM, i2c-stub on i2c-$BUS, Modbus on $SERIAL, kernel $(uname -r)"

# The binary under test is the one the host built (for aarch64: the flashed artifact itself), on a
# kernel of the architecture it was built for.
sum=$(sha256sum /usr/local/bin/vigil | cut -d' ' -f1)
check "the binary under test is the host's build, on a $GUEST_ARCH kernel" $([ "$sum" = "$VIGIL_SHA256" ] && [ "$(uname -m)" = "$GUEST_ARCH" ]; echo $?) "sha256 $(echo $sum | cut -c1-16)…, uname -m $(uname -m), $(vigil --version)"

# --- The technician commands, directly on the hardware (no agent yet) ---
vigil gpio info --json > /tmp/info.json; s=$?
n=$(grep -c '"name" : "\(RUN_PERMIT\|ESTOP_FB\|RESET_BTN\|SPARE_OUT\|SPARE_IN\|HEARTBEAT\|TACHO\)"' /tmp/info.json)
k=$(gpioinfo $(cat $G/bank0/chip_name) | grep -c '"\(RUN_PERMIT\|ESTOP_FB\|RESET_BTN\|SPARE_OUT\|SPARE_IN\|HEARTBEAT\|TACHO\)"')
check "gpio info lists the gpio-sim lines as gpioinfo does" $([ $s = 0 ] && [ $n = 7 ] && [ $k = 7 ]; echo $?) "vigil: $n named lines, gpioinfo: $k"

a=$(vigil gpio get ESTOP_FB); pull $ESTOP_FB pull-down; b=$(vigil gpio get ESTOP_FB); pull $ESTOP_FB pull-up
check "gpio get follows the simulated pull" $([ "$a" = "sim0:ESTOP_FB=1" -o "${a##*=}" = 1 ] && [ "${b##*=}" = 0 ]; echo $?) "pull-up → $a, pull-down → $b"

vigil gpio set SPARE_OUT 1 --hold 1.5 & setter=$!
sleep 0.7; held=$(value $SPARE_OUT); wait $setter; sleep 0.2; released=$(value $SPARE_OUT)
check "gpio set drives the line the kernel sees" $([ "$held" = 1 ] && [ "$released" = 0 ]; echo $?) "while held: $held, after release: $released"

vigil gpio mon SPARE_IN --events 2 --seconds 20 --json > /tmp/mon.json & mon=$!
sleep 1; pull $SPARE_IN pull-up; sleep 0.3; pull $SPARE_IN pull-down; wait $mon
first=$(head -1 /tmp/mon.json)
check "gpio mon reports kernel edge events" $([ $(grep -c edge /tmp/mon.json) = 2 ] && echo "$first" | grep -q rising; echo $?) "$(tr '\n' ' ' < /tmp/mon.json | cut -c1-150)"

vigil i2c scan --bus $BUS --json > /tmp/scan.json
check "i2c scan finds the stub's devices and names the ADXL345" $(grep -q '0x48' /tmp/scan.json && grep -q 'ADXL345' /tmp/scan.json; echo $?) "$(tr -d ' \n' < /tmp/scan.json | cut -c1-160)"

check "i2c scan names the ADS1115 by its Hi_thresh" $(grep -A3 '0x49' /tmp/scan.json | grep -q 'ADS1115'; echo $?) "$(tr -d ' \n' < /tmp/scan.json | grep -o '0x49[^}]*' | cut -c1-100)"

# The ADS1115 driver through i2c-dev: it programs continuous AIN0 ±4.096 V 128 SPS (config 0x4283,
# bytes 1 and 2), reads it back, then reads the conversion word: 0x38 and the config's 0x42, 14402
# codes = 1.80 V across 150 Ω = 12.0 mA = 5.0 bar. Then the loop "breaks" (high byte 0): about 0 mA.
vigil selftest --board /bench-sensors.toml --json > /tmp/selftest.json
loop=$(tr -d '\n' < /tmp/selftest.json | grep -o '"check" : "loop adc"[^}]*')
c2=$(i2cget -y $BUS 0x49 0x01); c3=$(i2cget -y $BUS 0x49 0x02)
check "the ADS1115 driver programs the part and reads 12 mA through i2c-dev" $(echo "$loop" | grep -q '"pass" : true' && echo "$loop" | grep -q '12 mA = 5.001 bar' && [ "$c2$c3" = 0x420x83 ]; echo $?) "config $c2 $c3; $(echo $loop | cut -c1-120)"
i2cset -y $BUS 0x49 0x00 0x00
vigil selftest --board /bench-sensors.toml --json > /tmp/selftest.json
loop=$(tr -d '\n' < /tmp/selftest.json | grep -o '"check" : "loop adc"[^}]*')
check "an open 4-20 mA loop fails the selftest and says why" $(echo "$loop" | grep -q '"pass" : false' && echo "$loop" | grep -q 'loop is open'; echo $?) "$(echo $loop | cut -c1-140)"
i2cset -y $BUS 0x49 0x00 0x38
cab=$(tr -d '\n' < /tmp/selftest.json | grep -o '"check" : "sensor cabinet"[^}]*')
check "the kernel's lm75 driver is read through hwmon" $(echo "$cab" | grep -q '"pass" : true' && echo "$cab" | grep -q 'temp1_input: 42.5 degC'; echo $?) "$(cat /sys/class/hwmon/*/name 2>/dev/null | tr '\n' ' ')$(echo $cab | cut -c1-120)"
supply=$(tr -d '\n' < /tmp/selftest.json | grep -o '"check" : "sensor supply"[^}]*')
check "the kernel's ti-ads1015 driver is read through IIO (raw × scale)" $(echo "$supply" | grep -q '"pass" : true' && echo "$supply" | grep -q 'iio ads1015 in_voltage0: 0.9 V'; echo $?) "$(cat /sys/bus/iio/devices/*/name 2>/dev/null | tr '\n' ' ')raw $(cat /sys/bus/iio/devices/iio:device0/in_voltage0_raw 2>/dev/null) scale $(cat /sys/bus/iio/devices/iio:device0/in_voltage0_scale 2>/dev/null); $(echo $supply | cut -c1-100)"
# Removed (delete_device unbinds the driver and its hwmon directory goes): a failure that says
# why; bound again: found again.
echo 0x4a > /sys/bus/i2c/devices/i2c-$BUS/delete_device
gone=$(vigil selftest --board /bench-sensors.toml --json | tr -d '\n' | grep -o '"check" : "sensor cabinet"[^}]*')
echo lm75 0x4a > /sys/bus/i2c/devices/i2c-$BUS/new_device
back=$(vigil selftest --board /bench-sensors.toml --json | tr -d '\n' | grep -o '"check" : "sensor cabinet"[^}]*')
check "a removed hwmon device is a failure that says why, and is found again once bound" $(echo "$gone" | grep -q '"pass" : false' && echo "$gone" | grep -q 'no hwmon device named lm75' && echo "$back" | grep -q '"pass" : true'; echo $?) "$(echo $gone | cut -c1-100) / $(echo $back | cut -c1-60)"

a=$(vigil i2c read --bus $BUS 0x53 0x00); b=$(i2cget -y $BUS 0x53 0x00)
check "i2c read agrees with i2cget" $([ "$a" = "$b" ] && [ "$a" = 0xe5 ]; echo $?) "vigil $a, i2cget $b"

a=$(vigil modbus read --device $SERIAL --baud 19200 --address 0 --type int16 --timeout-ms 1000 --json | tr -d ' \n')
b=$(vigil modbus read --device $SERIAL --baud 19200 --address 6 --type float32 --timeout-ms 1000 --json | tr -d ' \n')
check "modbus read over the UART ($SERIAL) reads the host's pymodbus server" $(echo "$a" | grep -q '"values":\[-1234\]' && echo "$b" | grep -q '"values":\[21.5\]'; echo $?) "$(echo $a | cut -c1-80) $(echo $b | cut -c1-60)"

# --- The agent with the bench profile ---
vigil run --board /bench.toml > /tmp/agent.log 2>&1 & agent=$!
ok=1
for i in $(seq 300); do vigil status --json > /tmp/status.json 2>/dev/null && grep -q '"state" : "waiting_for_reset"' /tmp/status.json && { ok=0; break; }; sleep 0.1; done
check "agent starts and waits for a reset with healthy inputs" $ok "interlock $(grep -o '"waiting_for_reset"' /tmp/status.json | head -1)"

# The bench profile lets only the reset button reset: the control socket is refused.
vigil interlock reset > /tmp/reset.txt 2>&1; r=$?
check "a reset from the control socket is refused when only the button may reset" $([ $r = 5 ] && [ $(value $RUN_PERMIT) = 0 ] && grep -q "only the reset button" /tmp/reset.txt; echo $?) "exit $r, RUN_PERMIT=$(value $RUN_PERMIT): $(head -c 120 /tmp/reset.txt)"
# The code the interlock's state calls for: a rule whose input is unusable (here often the clock
# rule: the guest's clock is never synchronised) outranks waiting for a reset.
vigil status --json > /tmp/led.json
if grep -q '"state" : "faulted' /tmp/led.json; then want=150; code="sensor fault (double flash, 150 ms on)"; else want=500; code="waiting for a reset (500 ms on, 1 Hz)"; fi
on=$(led_on_times 3500)
check "the status LED blinks the code of the state vigil status reports on the real line" $(near "$on" $want 110 2; echo $?) "$code; on-times: $on ms; rules: $(grep -o '"state" : "[a-z_():]*"' /tmp/led.json | sort | uniq -c | tr -s ' \n' ' ')"
press_reset
for i in $(seq 20); do [ $(value $RUN_PERMIT) = 1 ] && break; sleep 0.1; done
check "the reset button (press and release) arms the permissive on the real line" $([ $(value $RUN_PERMIT) = 1 ]; echo $?) "RUN_PERMIT=$(value $RUN_PERMIT)"
seen=""; for i in $(seq 20); do seen="$seen$(value $STATUS_LED)"; sleep 0.05; done
check "the status LED is steady on while armed" $([ "$seen" = 11111111111111111111 ]; echo $?) "samples $seen"
levels=$(heartbeat_levels 60)
check "the heartbeat line toggles while the node is armed" $([ $levels = 2 ]; echo $?) "$levels distinct levels in 60 samples"

set -- $(vigil gpio set RUN_PERMIT 0 2>&1; echo "exit=$?")
check "gpio set on the interlock's line is refused" $(echo "$*" | grep -q "exit=5"; echo $?) "$(echo $* | cut -c1-120)"

vigil status --json > /tmp/status.json
check "the agent polls the Modbus peer over RS-485 ($SERIAL)" $(grep -B3 -A6 '"peer.int16_value"' /tmp/status.json | grep -q -- '-1234'; echo $?) "$(grep -B3 -A6 '"peer.int16_value"' /tmp/status.json | tr -d ' \n' | cut -c1-160)"

# Trip 1: the e-stop chain opens (gpio-sim pull) → RUN_PERMIT drops.
t0=$(now_ms); pull $ESTOP_FB pull-down
while [ $(value $RUN_PERMIT) = 1 ] && [ $(( $(now_ms) - t0 )) -lt 3000 ]; do :; done
t1=$(now_ms); trip=$((t1 - t0))
echo "TRIP_MS estop $trip"
check "e-stop input drops the permissive within the trip time (one 5 ms period + emulation)" $([ $(value $RUN_PERMIT) = 0 ] && [ $trip -le 200 ]; echo $?) "$trip ms (10 ms clock resolution)"
# A technician closes the e-stop and waits for the reset lamp (the rule has cleared: the node waits
# for a reset) before pressing the button; under a loaded emulator that can take longer than a
# fixed sleep, so wait for the state the node reports rather than for a guessed time.
pull $ESTOP_FB pull-up
ok=1; wait_state waiting_for_reset 50 && ok=0
press_reset
for i in $(seq 20); do [ $(value $RUN_PERMIT) = 1 ] && break; sleep 0.1; done
check "the reset button re-arms after the e-stop closed" $([ $ok = 0 ] && [ $(value $RUN_PERMIT) = 1 ]; echo $?) "RUN_PERMIT=$(value $RUN_PERMIT), waited for reset: $([ $ok = 0 ] && echo yes || echo "no: $(grep -o '"state" : "[a-z_]*"' /tmp/ws.json | sort | uniq -c | tr -s ' \n' ' ')")"

# Trip 2: the temperature register goes past 80 °C (i2cset on the stub) → RUN_PERMIT drops.
t0=$(now_ms); i2cset -y $BUS 0x48 0x00 0x55
while [ $(value $RUN_PERMIT) = 1 ] && [ $(( $(now_ms) - t0 )) -lt 3000 ]; do :; done
trip=$(( $(now_ms) - t0 ))
echo "TRIP_MS temperature $trip"
check "TMP102 over its limit drops the permissive within poll + period" $([ $(value $RUN_PERMIT) = 0 ] && [ $trip -le 1000 ]; echo $?) "$trip ms after i2cset 85 °C"
press_reset; sleep 0.3
vigil status --json > /tmp/status.json
check "a reset is refused while the temperature is still high" $([ $(value $RUN_PERMIT) = 0 ] && grep -q '"kind" : "reset_refused"' /tmp/status.json; echo $?) "RUN_PERMIT=$(value $RUN_PERMIT), refusal event: $(grep -c '"reset_refused"' /tmp/status.json)"
i2cset -y $BUS 0x48 0x00 0x2a
ok=1; wait_state waiting_for_reset 50 && ok=0
press_reset
for i in $(seq 20); do [ $(value $RUN_PERMIT) = 1 ] && break; sleep 0.1; done
check "the reset re-arms once the temperature is back" $([ $ok = 0 ] && [ $(value $RUN_PERMIT) = 1 ]; echo $?) "RUN_PERMIT=$(value $RUN_PERMIT), $(vigil status --json | tr -d ' \n' | grep -o '"systemFaults":\[[^]]*\]')"

# Trip 3: the tachometer pulsed far above max_rpm (120) from here: the channel is out of range
# (never a smaller speed), and the overspeed rule trips.
t0=$(now_ms)
for i in $(seq 30); do pull $TACHO pull-up; pull $TACHO pull-down; done
for i in $(seq 20); do [ $(value $RUN_PERMIT) = 0 ] && break; sleep 0.05; done
trip=$(( $(now_ms) - t0 ))
vigil status --json > /tmp/status.json
rpmq=$(grep -A4 '"name" : "shaft.rpm"' /tmp/status.json | grep -o '"quality" : "[a-z_+]*"')
check "tachometer pulses above max_rpm read out of range and trip" $([ $(value $RUN_PERMIT) = 0 ] && echo "$rpmq" | grep -q out_of_range && grep -A8 '"name" : "shaft-overspeed"' /tmp/status.json | grep -q '"state" : "\(faulted\|active\|latched\)'; echo $?) "RUN_PERMIT=$(value $RUN_PERMIT) $trip ms after the first pulse; shaft.rpm $rpmq"
ok=1; wait_state waiting_for_reset 60 && ok=0
press_reset
for i in $(seq 20); do [ $(value $RUN_PERMIT) = 1 ] && break; sleep 0.1; done
check "the shaft at rest again (0 rpm, may stand still): the reset re-arms" $([ $ok = 0 ] && [ $(value $RUN_PERMIT) = 1 ]; echo $?) "RUN_PERMIT=$(value $RUN_PERMIT)"

# The supervisor: the loop is made to hang (its proof test) past max_stall_ms = 100; the supervisor,
# a thread of its own, drives RUN_PERMIT low while the loop still hangs.
vigil interlock test-supervisor --confirm --hang-ms 1500 --json > /tmp/sup.json 2>&1 & sup=$!
low=no
for i in $(seq 100); do [ $(value $RUN_PERMIT) = 0 ] && { low=yes; break; }; sleep 0.01; done
wait $sup; r=$?
reaction=$(grep -o '"tripMilliseconds" : [0-9.]*' /tmp/sup.json | grep -o '[0-9.]*$')
echo "TRIP_MS supervisor ${reaction%%.*}"
check "a hung loop: the supervisor drives the permissive low within max_stall_ms + one period" $([ $r = 0 ] && [ $low = yes ] && [ "${reaction%%.*}" -le 135 ]; echo $?) "exit $r, low during the hang: $low, ${reaction} ms after the last cycle (bound 100 + 5 ms, emulation slack 30 ms)"
ok=1; wait_state waiting_for_reset 50 && ok=0
press_reset
for i in $(seq 20); do [ $(value $RUN_PERMIT) = 1 ] && break; sleep 0.1; done
check "the latched loop_stall clears with a reset at the button" $([ $ok = 0 ] && [ $(value $RUN_PERMIT) = 1 ]; echo $?) "RUN_PERMIT=$(value $RUN_PERMIT)"

# SIGKILL: a kernel that keeps a released line's level (Raspberry Pi OS does; gpio-sim's pull-up
# stands in for it) leaves the permissive on; `vigil safe-state` (the unit's ExecStopPost) drives
# it low. (gpio-sim returns the line to its pull once safe-state releases it: a Pi keeps it low.)
pull $RUN_PERMIT pull-up
kill -9 $agent; wait $agent 2>/dev/null; sleep 0.1
after_kill=$(value $RUN_PERMIT)
vigil safe-state --board /bench.toml --hold 1.5 > /tmp/safe.txt 2>&1 & safe=$!
sleep 0.8; held=$(value $RUN_PERMIT)
wait $safe; r=$?
check "after SIGKILL, vigil safe-state drives the line the kernel left high back low" $([ "$after_kill" = 1 ] && [ "$held" = 0 ] && [ $r = 0 ]; echo $?) "after SIGKILL $after_kill, during safe-state $held, exit $r: $(tr '\n' ' ' < /tmp/safe.txt | cut -c1-120)"
pull $RUN_PERMIT pull-down

# piControl, a Revolution Pi's process image: /dev/piControl0 served through the kernel's CUSE by
# picontrol_peer (the driver's ABI and watchdog, from its source). The bench profile's permissive
# moves to the X2 relay (RevPiOutput.0); vigil's Linux backend talks to it through real ioctls.
insmod /lib/modules/fuse.ko; insmod /lib/modules/cuse.ko
picontrol_peer /tmp/picontrol.log /tmp/x2relay > /tmp/picontrol.err 2>&1 & peer=$!
for i in $(seq 50); do [ -c /dev/piControl0 ] && break; sleep 0.1; done
sed 's|line = { chip = "sim", line = "RUN_PERMIT" }|line = { chip = "x2", line = "RevPiOutput.0" }|' /bench.toml > /tmp/revpi.toml
printf '\n[gpio.x2]\ndriver = "picontrol"\noutput_watchdog_ms = 100\n' >> /tmp/revpi.toml
relay() { cat /tmp/x2relay 2>/dev/null || echo "?"; }
arm_relay() { for attempt in 1 2 3; do press_reset; for i in $(seq 20); do [ "$(relay)" = 1 ] && return 0; sleep 0.1; done; sleep 1; done; return 1; }
rm -f /tmp/vigil/control.sock
vigil run --board /tmp/revpi.toml > /tmp/agent4.log 2>&1 & agent=$!
ready=no; wait_state waiting_for_reset 300 && ready=yes
arm_relay; armed=$(relay)
check "through /dev/piControl0 the agent finds RevPiOutput.0, arms the output watchdog with an 8-byte 100 ms, and the reset energizes the X2 relay" $([ -c /dev/piControl0 ] && grep -q "^FIND RevPiOutput$" /tmp/picontrol.log && grep -q "^WATCHDOG 100$" /tmp/picontrol.log && [ "$armed" = 1 ]; echo $?) "ready $ready, relay $armed; $(grep -v RELAY /tmp/picontrol.log | sort -u | tr '\n' ' ' | cut -c1-120)$(head -c 100 /tmp/picontrol.err)"
t0=$(now_ms); kill -STOP $agent
while [ "$(relay)" = 1 ] && [ $(( $(now_ms) - t0 )) -lt 3000 ]; do :; done
frozen=$(( $(now_ms) - t0 ))
echo "TRIP_MS picontrol-frozen $frozen"
check "a frozen agent (SIGSTOP): piControl's output watchdog drops the X2 relay" $([ "$(relay)" = 0 ] && grep -q "^EXPIRED$" /tmp/picontrol.log && [ $frozen -le 400 ]; echo $?) "$frozen ms after SIGSTOP (watchdog 100 ms, 5 ms I/O cycle, 10 ms clock resolution)"
kill -CONT $agent
wait_state waiting_for_reset 100
arm_relay; again=$(relay)
kill -9 $agent; wait $agent 2>/dev/null
for i in $(seq 20); do [ "$(relay)" = 0 ] && break; sleep 0.05; done
check "a killed agent (SIGKILL): the kernel closes its handle and piControl zeroes the X2 relay" $([ "$again" = 1 ] && [ "$(relay)" = 0 ] && grep -q "^RELEASE zeroed$" /tmp/picontrol.log; echo $?) "armed again: $again, relay after SIGKILL: $(relay)"
kill $peer 2>/dev/null
# (The killed agent left the i6300esb running; the next agent opens and pets it at once.)

# SIGTERM: a clean stop drives the output off itself.
rm -f /tmp/vigil/control.sock
vigil run --board /bench.toml > /tmp/agent2.log 2>&1 & agent=$!
# Reset once the node reports it waits for one (every rule has seen healthy input: the TMP102's
# first conversions take a while under a loaded emulator), as a technician waits for the lamp.
ready=no; wait_state waiting_for_reset 300 && ready=yes
press_reset
for i in $(seq 20); do [ $(value $RUN_PERMIT) = 1 ] && break; sleep 0.1; done
before=$(value $RUN_PERMIT)
kill -TERM $agent; wait $agent; code=$?
check "SIGTERM stops cleanly with the output off" $([ "$before" = 1 ] && [ $code = 0 ] && [ $(value $RUN_PERMIT) = 0 ] && grep -q "outputs off" /tmp/agent2.log; echo $?) "before $before (waited for reset: $ready), exit $code, after $(value $RUN_PERMIT)"

# Real time without capabilities, as systemd/vigil.service runs the agent (no capability at all,
# LimitRTPRIO=99, LimitMEMLOCK=infinity): as user nobody, with those limits, the simulator agent
# gets SCHED_FIFO and locks its memory; without the limits it gets neither (the check can fail).
rt_run() { # NAME RTPRIO MEMLOCK: runs the simulator as nobody under those limits and prints its status
  d=/tmp/vigil-rt-$1; mkdir -p $d; chown 65534:65534 $d
  sed "s/lock_memory = false/lock_memory = true/; s|/tmp/vigil-simulator|$d|" /simulator.toml > $d/board.toml
  ( ulimit -r $2; ulimit -l $3; echo "limits: rtprio $(ulimit -r) memlock $(ulimit -l)"; exec /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups vigil run --board $d/board.toml --seconds 20 ) > $d/agent.log 2>&1 &
  rtpid=$!
  # The grant is made after the loop's warm-up; the log says when ("loop: … period, …" or "running without").
  for i in $(seq 150); do grep -q -e "µs period" -e "running without" $d/agent.log && break; sleep 0.2; done
  vigil status --json --socket $d/control.sock > $d/status.json 2>/dev/null
  caps=$(grep CapEff /proc/$rtpid/status 2>/dev/null | tr -d ' \t' | cut -d: -f2)
  kill $rtpid 2>/dev/null; wait $rtpid 2>/dev/null
  echo "$(grep -o '"scheduler" : "[^"]*"' $d/status.json) $(grep -o '"memoryLocked" : [a-z]*' $d/status.json) caps=$caps $(grep -o "limits: [^<]*" $d/agent.log | head -1) $(grep -o "running without[^(]*" $d/agent.log | head -1)"
}
with=$(rt_run limits 99 unlimited)
without=$(rt_run none 0 64)
check "SCHED_FIFO and mlockall without capabilities, from LimitRTPRIO and LimitMEMLOCK alone" $(echo "$with" | grep -q 'SCHED_FIFO 80' && echo "$with" | grep -q '"memoryLocked" : true' && echo "$with" | grep -q 'caps=0000000000000000' && echo "$without" | grep -q 'SCHED_OTHER'; echo $?) "with limits: $with; without: $without"

# The hardware watchdog: an agent frozen (SIGSTOP, not dead) stops the heartbeat line, and the
# i6300esb, no longer petted, resets the guest. The host sees the reset (QEMU exits without the
# guest's WATCHDOG_NO_RESET line) and counts that check.
sed 's/^timeout_s = 20 /timeout_s = 3 /' /bench.toml > /tmp/wd.toml
rm -f /tmp/vigil/control.sock
vigil run --board /tmp/wd.toml > /tmp/agent3.log 2>&1 & agent=$!
# A just-started agent under emulation may still count a deadline burst (a refused reset): press
# again, as a technician would, up to five times.
wait_state waiting_for_reset 300
for attempt in 1 2 3 4 5; do
  press_reset
  for i in $(seq 20); do [ $(value $RUN_PERMIT) = 1 ] && break; sleep 0.1; done
  [ $(value $RUN_PERMIT) = 1 ] && break
  sleep 1
done
before=$(heartbeat_levels 60)
kill -STOP $agent
sleep 0.1
frozen=$(heartbeat_levels 60)
check "a frozen agent: the heartbeat line stops toggling" $([ "$before" = 2 ] && [ "$frozen" = 1 ]; echo $?) "levels before SIGSTOP $before, after $frozen"

# On a failure, the agent's own account goes to the host with the checks.
[ $failed = 0 ] || { tail -30 /tmp/agent.log | sed 's/^/AGENTLOG /'; tail -15 /tmp/agent2.log | sed 's/^/AGENT2LOG /'; tail -10 /tmp/agent3.log | sed 's/^/AGENT3LOG /'; tail -15 /tmp/agent4.log | sed 's/^/AGENT3LOG /'; grep -v RELAY /tmp/picontrol.log | tail -8 | sed 's/^/AGENT3LOG picontrol: /'; }
echo "SUMMARY $passed passed, $failed failed"
# The agent stays frozen: the watchdog (3 s, two stages) must reset the guest well within 30 s.
echo "WATCHDOG_WAIT $(now_ms)"
sleep 30
echo "WATCHDOG_NO_RESET"
poweroff -f
