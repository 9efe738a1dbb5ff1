"""gep: Gross Ecosystem Product (GEP, 生态系统生产总值) accounting.

Units are explicit everywhere: money is yuan internally (万元 and 亿元 only for display), water in m³,
mass in t, energy in kWh, area in m² unless a name says otherwise.
"""

__version__ = "0.1.0"
