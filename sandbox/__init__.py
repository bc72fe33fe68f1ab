"""Twins of Magento's REST API and Amazon's SP-API, served over real HTTP for tests, demo and benchmarks."""
