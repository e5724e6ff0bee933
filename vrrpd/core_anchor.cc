// Keeps vrrpd_core non-empty while its modules land one by one.
namespace vrrpd {
int coreAnchor() { return 0; }
} // namespace vrrpd
