// Which IP addresses http_request may connect to. Pure classification of one socket
// address; the HTTP handler applies it to every connection libcurl opens (after DNS and
// after each redirect), so a hostname or a redirect cannot reach a refused address.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <sys/socket.h>

namespace rc::worker {

enum class AddressClass {
    Public,
    Loopback,    // 127/8, ::1
    Private,     // 10/8, 172.16/12, 192.168/16, 192.0.0/24, 198.18/15, fc00::/7, fec0::/10
    SharedCgnat, // 100.64/10
    LinkLocal,   // 169.254/16 (cloud metadata: 169.254.169.254), fe80::/10
    Unspecified, // 0/8, ::
    Multicast,   // 224/4, ff00::/8
    Reserved,    // 240/4 including 255.255.255.255
};

struct AddressPolicy {
    bool allow_private = false;    // Loopback, Private, SharedCgnat
    bool allow_link_local = false; // LinkLocal
    // Unspecified, Multicast and Reserved are always refused.
};

// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4
// (2002::/16) IPv6 addresses are classified by the IPv4 address they embed.
[[nodiscard]] AddressClass classify(const sockaddr* addr);
[[nodiscard]] std::string_view to_string(AddressClass c);
// "127.0.0.1", "::1".
[[nodiscard]] std::string address_text(const sockaddr* addr);

// nullopt when the policy allows connecting to addr; otherwise the refusal message, e.g.
// "refused: 127.0.0.1 is a loopback address (start the worker with
// --allow-private-network to allow it)". Non-IP families are refused.
[[nodiscard]] std::optional<std::string> refusal(const sockaddr* addr, const AddressPolicy& policy);
// The same for a numeric address in text form (tests, diagnostics); unparsable text is refused.
[[nodiscard]] std::optional<std::string> refusal(std::string_view ip, const AddressPolicy& policy);

} // namespace rc::worker
