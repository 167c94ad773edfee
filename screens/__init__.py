"""The Kivy touch UI. Importing it prepares Kivy's environment (offscreen when headless)."""

from screens.env import prepare

prepare()
