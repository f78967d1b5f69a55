#pragma once

#include "protocol/metric_families.hpp"

namespace warren {

/// This process's memory, CPU time, open descriptors and start time, from /proc.
/// known is false where /proc is not there.
process_figures read_process_figures();

} // namespace warren
