#pragma once

#include <istream>
#include <ostream>

#include "config/command_line.hpp"
#include "config/settings.hpp"

namespace warren {

/// `warren queue create --batch`, `warren queue delete --batch` and `warren publish
/// --batch`: reads the items (from cl.batch.file, or `in` for "-"), starts warren's
/// services in this process and runs the items as batch jobs of at most
/// batch.max_items each, with a progress bar on a terminal, then prints one table (or
/// JSON) for the whole file to `out`. Writes are allowed: running the command is the
/// operator's consent. Returns 0 when every item succeeded, 1 when any did not, 2
/// when the file or the settings cannot be used.
int run_batch_command(const command_line& cl, settings cfg, std::istream& in,
                      std::ostream& out, std::ostream& err);

} // namespace warren
