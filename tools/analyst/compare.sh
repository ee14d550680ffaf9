#!/usr/bin/env bash
# Looks at a real capture and its regenerated copy as an analyst's tools do (tshark expert
# info and tcp.completeness, tcptrace, argus), side by side. Usage: compare.sh REAL SYNTH
# Needs tshark, tcptrace and argus-client (Debian packages).
set -u
real=$1 synth=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

completeness() {  # share of TCP conversations by their final tcp.completeness bits
  tshark -r "$1" -Y tcp -T fields -e tcp.stream -e tcp.completeness 2>/dev/null |
    awk '{last[$1]=$2} END {n=0; for (s in last) {c[last[s]]++; n++}
         full=0; for (k in c) if (k==31 || k==47 || k==63) full+=c[k];
         printf "%d streams, complete(SYN+SYNACK+ACK+DATA+FIN|RST) %.1f%%\n", n, n ? 100*full/n : 0}'
}
tcptrace_shares() {
  tcptrace -l -n "$1" 2>/dev/null |
    awk '/complete conn:/ {n++; if ($3=="yes") c++; else if ($3 ~ /RESET/) r++; else u++}
         END {printf "tcptrace %d conns: complete %.1f%% reset %.1f%% other %.1f%%\n", n, n?100*c/n:0, n?100*r/n:0, n?100*u/n:0}'
}
argus_states() {
  rm -f "$work/a.argus"  # argus -w appends: the second trace's counts would include the first's
  argus -r "$1" -w "$work/a.argus" 2>/dev/null || { echo "argus failed"; return; }
  racluster -r "$work/a.argus" -n -s proto state 2>/dev/null | sort | uniq -c | sort -rn | head -12 | tr '\n' ';'
  echo
}
roles() {  # packets in roles no stack has (format 16's rules); ICMP aside, whose errors quote other headers
  n() { tshark -r "$1" -Y "!icmp && !icmpv6 && ($2)" 2>/dev/null | wc -l; }
  echo "to 0.0.0.0/::: $(n "$1" 'ip.dst==0.0.0.0 || ipv6.dst==::')" \
       " / from it to a unicast host: $(n "$1" '(ip.src==0.0.0.0 && !(ip.dst==255.255.255.255 || ip.dst==224.0.0.0/4)) || (ipv6.src==:: && !(ipv6.dst==ff00::/8))')" \
       " / host to itself: $(n "$1" 'ip.src==ip.dst || ipv6.src==ipv6.dst')"
}
for f in "$real" "$synth"; do
  echo "== $f"
  completeness "$f"
  echo "SYN with data: $(tshark -r "$f" -Y 'tcp.flags.syn==1 && tcp.len>0' 2>/dev/null | wc -l)"\
       " / SYNs: $(tshark -r "$f" -Y 'tcp.flags.syn==1' 2>/dev/null | wc -l)"
  echo "TCP with options: $(tshark -r "$f" -Y 'tcp.hdr_len>20' 2>/dev/null | wc -l) / $(tshark -r "$f" -Y tcp 2>/dev/null | wc -l)"
  echo "malformed: $(tshark -r "$f" -Y '_ws.malformed' 2>/dev/null | wc -l)"
  roles "$f"
  tshark -r "$f" -q -z expert 2>/dev/null | awk '/^ +[0-9]+ +Sequence|Malformed|Protocol /' | head -12
  command -v tcptrace >/dev/null && tcptrace_shares "$f"
  command -v argus >/dev/null && argus_states "$f"
done
