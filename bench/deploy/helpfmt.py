"""The benchmarks' --help layout: the module docstring's paragraphs kept as written, and each
option's default shown unless it has none (its help then says what happens)."""
import argparse


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    def _get_help_string(self, action):
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)
